import { z } from "zod";

/**
 * A field whose value is JSON inside a string (the scrubber's ai_generated_x12_837). The string is parsed
 * and validated; issues are reported at the field itself, with the inner path appended
 * (`output.ai_generated_x12_837.item[0].sequence`) so the partner sees both where and what.
 */
export function jsonString<S extends z.ZodType>(schema: S, what: string) {
  return z.string().transform((text, ctx): z.output<S> => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      ctx.addIssue({ code: "custom", message: `must be a JSON string of ${what} (${(e as Error).message})` });
      return z.NEVER;
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const inner = issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("");
        const params = issue.code === "custom" ? issue.params : undefined;
        ctx.addIssue({ code: "custom", message: `${what}${inner}: ${issue.message}`, ...(params ? { params } : {}) });
      }
      return z.NEVER;
    }
    return parsed.data;
  });
}
