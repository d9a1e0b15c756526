import { asc, eq } from "drizzle-orm";
import { Hono } from "hono";
import { findClaimByIdentifier, findClaimId, readClaim } from "../claims/read";
import { database } from "../db/client";
import { paymentReconciliations } from "../db/schema";
import type { AppContext } from "../env";
import { ApiError } from "../errors";
import { requireAdmin } from "./admin/auth";

const claimNotFound = (what: string) => new ApiError(404, "CLAIM_NOT_FOUND", `No claim matches ${what}.`);

export const claimsRead = new Hono<AppContext>({ strict: false });
claimsRead.use("*", requireAdmin);

/** GET /api/claims?identifier=system|value */
claimsRead.get("/", async (c) => {
  const identifier = c.req.query("identifier");
  const bar = identifier?.lastIndexOf("|") ?? -1;
  if (!identifier || bar <= 0 || bar === identifier.length - 1) {
    throw new ApiError(400, "IDENTIFIER_REQUIRED", "Give ?identifier=system|value.", [
      { path: "identifier", message: "must be system|value" },
    ]);
  }
  const db = database(c.env.DB);
  const claimId = await findClaimByIdentifier(db, identifier.slice(0, bar), identifier.slice(bar + 1));
  const claim = claimId ? await readClaim(db, claimId) : null;
  if (!claim) throw claimNotFound(`identifier ${identifier}`);
  return c.json({ success: true, claim });
});

/** GET /api/claims/:claimId/payment-reconciliation: the claim's FHIR PaymentReconciliations, as a Bundle. */
claimsRead.get("/:claimId/payment-reconciliation", async (c) => {
  const db = database(c.env.DB);
  const claimId = await findClaimId(db, c.req.param("claimId"));
  if (!claimId) throw claimNotFound(`id ${c.req.param("claimId")}`);
  const rows = await db
    .select({ resource: paymentReconciliations.resource })
    .from(paymentReconciliations)
    .where(eq(paymentReconciliations.claimId, claimId))
    .orderBy(asc(paymentReconciliations.updatedAt));
  return c.json({
    resourceType: "Bundle",
    type: "searchset",
    total: rows.length,
    entry: rows.map((r) => ({ resource: JSON.parse(r.resource) as unknown })),
  });
});

/** GET /api/claims/:claimId (our id or an HCMS CLM-… id; trailing slash optional) */
claimsRead.get("/:claimId", async (c) => {
  const db = database(c.env.DB);
  const claimId = await findClaimId(db, c.req.param("claimId"));
  const claim = claimId ? await readClaim(db, claimId) : null;
  if (!claim) throw claimNotFound(`id ${c.req.param("claimId")}`);
  return c.json({ success: true, claim });
});
