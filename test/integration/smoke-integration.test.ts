import { describe, expect, it } from "vitest";
import { call } from "../helpers/api";

describe("health", () => {
  it("answers without auth", async () => {
    const res = await call("GET", "/health");
    expect(res.status).toBe(200);
    expect(res.body.status).toBe("ok");
  });
});
