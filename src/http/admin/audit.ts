import { desc, lt } from "drizzle-orm";
import { z } from "zod";
import { createMiddleware } from "hono/factory";
import { database, nowIso } from "../../db/client";
import { auditLog } from "../../db/schema";
import type { AppContext } from "../../env";
import { errorText, log } from "../../log";
import { limitQuery } from "../list-query";
import { defineRoute, json, OPERATOR_ERRORS, problem, router, serve } from "../route";
import { auditRow } from "./rows";

/** Reads that return partner payloads or PHI: audited like mutations. */
const PAYLOAD_READS = [/^\/admin\/events\/[^/]+$/, /^\/console\/claims\/?$/, /^\/console\/events\/[^/]+$/, /^\/console\/claims\/[^/]+(\/payment-reconciliation)?$/, /^\/api\/claims(\/|$)/, /^\/api\/patients\//, /^\/api\/deliveries\/[^/]+\/payload$/];

/** Records admin mutations and payload reads after they ran (with the status they got). */
export const auditTrail = createMiddleware<AppContext>(async (c, next) => {
  await next();
  const path = new URL(c.req.url).pathname;
  const mutation = c.req.method !== "GET" && c.req.method !== "HEAD";
  if (!mutation && !PAYLOAD_READS.some((r) => r.test(path))) return;
  // the actor is the operator (or the bootstrap admin): one identity per person, never a token
  const actor = c.get("operator")?.id ?? c.get("auditActor") ?? "anonymous";
  try {
    await database(c.env.DB)
      .insert(auditLog)
      .values({
        at: nowIso(),
        actor,
        action: `${c.req.method} ${c.req.routePath}`,
        target: path,
        status: c.res.status,
        ip: c.req.header("cf-connecting-ip") ?? c.req.header("x-forwarded-for") ?? null,
        requestId: c.req.header("cf-ray") ?? null,
      });
  } catch (e) {
    log.error("audit.write_failed", { path, error: errorText(e) });
  }
});

export const adminAudit = router();

const auditRoute = defineRoute({
  method: "get",
  path: "/",
  tag: "admin",
  summary: "The append-only audit trail, newest first",
  auth: "admin",
  role: "admin",
  request: { query: z.object({ limit: limitQuery(1000), before: z.string().regex(/^\d+$/, "must be an entry id").optional().meta({ description: "Cursor: the previous page's nextBefore" }) }) },
  responses: { 200: json(z.object({ data: z.array(auditRow), nextBefore: z.number().int().nullable() }), "Entries"), ...OPERATOR_ERRORS, 400: problem("INVALID_FILTER") },
});
serve(adminAudit, auditRoute, async (c) => {
  const { limit, before } = c.req.valid("query");
  const rows = await database(c.env.DB)
    .select()
    .from(auditLog)
    .where(before ? lt(auditLog.id, Number(before)) : undefined)
    .orderBy(desc(auditLog.id))
    .limit(limit);
  return c.json({ data: rows, nextBefore: rows.length === limit ? rows[rows.length - 1]!.id : null });
});
