import { describe, expect, it } from "vitest";
import { centsToAmount, centsToDecimalString, exactCents, roundToCents } from "../../src/domain/money";

describe("money", () => {
  it("converts exact decimals to cents without float error", () => {
    expect(exactCents(178.44)).toBe(17844);
    expect(exactCents("1250.00")).toBe(125000);
    expect(exactCents(0.1)).toBe(10);
    expect(exactCents(1.005)).toBeNull();
    expect(exactCents(0.1 + 0.2)).toBeNull();
    expect(exactCents(Number.NaN)).toBeNull();
    expect(exactCents("12.3.4")).toBeNull();
  });
  it("rounds partner amounts half away from zero on the digits", () => {
    expect(roundToCents(12)).toBe(1200);
    expect(roundToCents(1.005)).toBe(101);
    expect(roundToCents(-1.005)).toBe(-101);
    expect(roundToCents(0.1 + 0.2)).toBe(30);
    expect(roundToCents(1e-7)).toBe(0);
  });
  it("formats cents at the edge", () => {
    expect(centsToAmount(15075)).toBe(150.75);
    expect(centsToAmount(-5)).toBe(-0.05);
    expect(centsToDecimalString(2000)).toBe("20.00");
  });
});
