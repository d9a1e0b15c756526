import { and, eq, isNull } from "drizzle-orm";
import { timingSafeEqual } from "../crypto/compare";
import { toBase64, utf8 } from "../crypto/encoding";
import { sha256Hex } from "../crypto/hmac";
import { newId } from "../crypto/ids";
import { nowIso, type Db } from "../db/client";
import { operators, OPERATOR_ROLES } from "../db/schema";

export type Role = (typeof OPERATOR_ROLES)[number];

/** Who is acting: an operator, or the bootstrap admin (ADMIN_TOKEN). The audit trail's actor is `id`. */
export interface Operator {
  id: string;
  name: string;
  role: Role;
}

export const BOOTSTRAP_ADMIN: Operator = { id: "bootstrap-admin", name: "ADMIN_TOKEN", role: "admin" };

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };
/** viewer < operator < admin: each role may do what the ones below it may. */
export const roleAllows = (have: Role, need: Role) => RANK[have] >= RANK[need];

/** The bearer token of an `Authorization: Bearer …` header, or null. */
export const bearerToken = (header: string | undefined | null): string | null => /^Bearer\s+(.+)$/i.exec(header ?? "")?.[1]?.trim() || null;

const tokenHash = (token: string) => sha256Hex(utf8(token));

/**
 * The identity a token proves: ADMIN_TOKEN (compared in constant time) is the bootstrap admin; any other
 * token is looked up by its SHA-256 among operators not revoked. Null when it proves nothing.
 */
export async function identify(db: Db, adminToken: string | undefined, token: string | null): Promise<Operator | null> {
  if (!token) return null;
  if (adminToken && timingSafeEqual(utf8(token), utf8(adminToken))) return BOOTSTRAP_ADMIN;
  if (!token.startsWith("cgop_")) return null;
  const [row] = await db
    .select({ id: operators.id, name: operators.name, role: operators.role })
    .from(operators)
    .where(and(eq(operators.tokenHash, await tokenHash(token)), isNull(operators.revokedAt)));
  return row ?? null;
}

/** A new operator; the answer carries the token this once (only its hash is kept). */
export async function createOperator(db: Db, input: { name: string; role: Role }, createdBy: string) {
  const token = `cgop_${toBase64(crypto.getRandomValues(new Uint8Array(32))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")}`;
  const row = { id: newId("op"), name: input.name, role: input.role, tokenHash: await tokenHash(token), createdAt: nowIso(), createdBy, revokedAt: null };
  await db.insert(operators).values(row);
  return { ...operatorView(row), token };
}

export const operatorView = (o: typeof operators.$inferSelect) => ({ id: o.id, name: o.name, role: o.role, createdAt: o.createdAt, createdBy: o.createdBy, revokedAt: o.revokedAt });

export async function listOperators(db: Db) {
  return (await db.select().from(operators).orderBy(operators.createdAt)).map(operatorView);
}

/** Revokes at once: the next request with the token, and every console session of the operator, fails. */
export async function revokeOperator(db: Db, id: string): Promise<boolean> {
  const rows = await db.update(operators).set({ revokedAt: nowIso() }).where(and(eq(operators.id, id), isNull(operators.revokedAt))).returning({ id: operators.id });
  return rows.length === 1;
}
