import { describe, expect, it } from "vitest";
import { byKeys } from "../../src/order";

describe("byKeys", () => {
  it("orders by the first key, then the next where it ties (ORDER BY at, id)", () => {
    const rows = [
      { at: "2024-11-02T00:00:00.000Z", id: "b" },
      { at: "2024-11-01T00:00:00.000Z", id: "z" },
      { at: "2024-11-02T00:00:00.000Z", id: "a" },
    ];
    expect(rows.sort(byKeys((r) => r.at, (r) => r.id)).map((r) => r.id)).toEqual(["z", "a", "b"]);
  });

  it("compares text as bytes, as SQLite's binary collation does on ASCII (upper case first)", () => {
    expect(["b", "B", "a", "A"].sort(byKeys((s) => s))).toEqual(["A", "B", "a", "b"]);
    expect(byKeys<string>((s) => s)("x", "x")).toBe(0);
  });
});
