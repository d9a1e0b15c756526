import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { chunks } from "../../src/lifecycle/outbox";

// An outbox entry longer than one SQLite value is stored in pieces (src/lifecycle/outbox.ts). SQLite keeps
// text as UTF-8, so a piece ending inside a surrogate pair would be stored as a replacement character and
// the entry read back wrong.
describe("outbox chunks", () => {
  it("join back to the text, each at most the size, none ending inside a surrogate pair", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 300 }), fc.integer({ min: 2, max: 50 }), (text, size) => {
        const pieces = chunks(text, size);
        expect(pieces.join("")).toBe(text);
        for (const piece of pieces) {
          expect(piece.length).toBeLessThanOrEqual(size);
          if (text.length > 0) expect(piece.length).toBeGreaterThan(0);
          expect(piece).not.toMatch(/^[\uDC00-\uDFFF]|[\uD800-\uDBFF]$/);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("a text within the size is one piece, and an empty one too", () => {
    expect(chunks("abc", 3)).toEqual(["abc"]);
    expect(chunks("", 3)).toEqual([""]);
    expect(chunks("ab💳", 3)).toEqual(["ab", "💳"]);
  });
});
