import { desc, lt } from "drizzle-orm";
import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { database, nowIso } from "../../db/client";
import { auditLog } from "../../db/schema";
import type { AppContext } from "../../env";
import { errorText, log } from "../../log";

/** Reads that return partner payloads or PHI: audited like mutations. */
const PAYLOAD_READS = [/^\/admin\/events\/[^/]+$/, /^\/console\/events\/[^/]+$/, /^\/console\/claims\/[^/]+(\/payment-reconciliation)?$/, /^\/api\/claims(\/|$)/, /^\/api\/patients\//, /^\/api\/deliveries\/[^/]+\/payload$/];

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

export const adminAudit = new Hono<AppContext>();

/** GET /admin/audit?limit=&before= (newest first) */
adminAudit.get("/", async (c) => {
  const limit = Math.min(1000, Math.max(1, Number(c.req.query("limit") ?? 100) || 100));
  const before = Number(c.req.query("before"));
  const rows = await database(c.env.DB)
    .select()
    .from(auditLog)
    .where(Number.isInteger(before) && before > 0 ? lt(auditLog.id, before) : undefined)
    .orderBy(desc(auditLog.id))
    .limit(limit);
  return c.json({ data: rows, nextBefore: rows.length === limit ? rows[rows.length - 1]!.id : null });
});
