import { DrizzleQueryError } from "drizzle-orm/errors";
import { describe, expect, it } from "vitest";
import { errorText } from "../../src/log";

describe("errorText (what logs and last_error keep of an error)", () => {
  it("a failed query says what D1 said, not the SQL or its bound values", () => {
    const d1 = new Error("D1_ERROR: UNIQUE constraint failed: patients.external_id: SQLITE_CONSTRAINT");
    const e = new DrizzleQueryError('insert into "patients" ("id", "external_id") values (?, ?)', ["pat_1", "Jane Doe 1970-01-01"], d1);
    const text = errorText(e);
    expect(text).toBe("Error: D1_ERROR: UNIQUE constraint failed: patients.external_id: SQLITE_CONSTRAINT");
    expect(text).not.toContain("Jane");
  });

  it("other errors keep their name and message, cut at 500 characters", () => {
    expect(errorText(new TypeError("bad"))).toBe("TypeError: bad");
    expect(errorText("plain")).toBe("plain");
    expect(errorText(new Error("x".repeat(600)))).toHaveLength(500);
  });
});
