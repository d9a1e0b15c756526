import { and, asc, eq, max } from "drizzle-orm";
import { openSecret, sealSecret } from "../crypto/secret-box";
import type { Db } from "../db/client";
import { nowIso } from "../db/client";
import { sources, sourceSecrets } from "../db/schema";
import { verificationConfig, type VerificationConfig } from "../verify/config";

export interface SourceView {
  id: string;
  kind: string;
  description: string | null;
  verification: VerificationConfig;
  enabled: boolean;
  /** Days an archived body is kept in R2; null keeps it. */
  retentionDays: number | null;
  /** Secret numbers and creation times; the secrets themselves are never shown again. */
  secrets: { n: number; createdAt: string }[];
  createdAt: string;
  updatedAt: string;
}

/** A source with its secrets decrypted: what the ingest path needs, never sent to a client. */
export interface ResolvedSource {
  id: string;
  kind: string;
  enabled: boolean;
  verification: VerificationConfig;
  secrets: string[];
}

type SourceRow = typeof sources.$inferSelect;

function view(row: SourceRow, secrets: { n: number; createdAt: string }[]): SourceView {
  return {
    id: row.id,
    kind: row.kind,
    description: row.description,
    verification: verificationConfig.parse(JSON.parse(row.verification)),
    enabled: row.enabled,
    retentionDays: row.retentionDays,
    secrets,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

export async function listSources(db: Db, filter: { kind?: string; enabled?: boolean } = {}): Promise<SourceView[]> {
  const conds = [];
  if (filter.kind) conds.push(eq(sources.kind, filter.kind));
  if (filter.enabled !== undefined) conds.push(eq(sources.enabled, filter.enabled));
  const [rows, secretRows] = await Promise.all([
    db.select().from(sources).where(and(...conds)).orderBy(asc(sources.id)),
    db
      .select({ sourceId: sourceSecrets.sourceId, n: sourceSecrets.n, createdAt: sourceSecrets.createdAt })
      .from(sourceSecrets)
      .orderBy(asc(sourceSecrets.n)),
  ]);
  return rows.map((r) => view(r, secretRows.filter((s) => s.sourceId === r.id).map(({ n, createdAt }) => ({ n, createdAt }))));
}

export async function getSource(db: Db, id: string): Promise<SourceView | null> {
  const [row] = await db.select().from(sources).where(eq(sources.id, id));
  if (!row) return null;
  const secrets = await db
    .select({ n: sourceSecrets.n, createdAt: sourceSecrets.createdAt })
    .from(sourceSecrets)
    .where(eq(sourceSecrets.sourceId, id))
    .orderBy(asc(sourceSecrets.n));
  return view(row, secrets);
}

/** Creates a source and its secrets in one atomic batch; false when the id is taken. */
export async function createSource(
  db: Db,
  secretsKey: string | undefined,
  input: { id: string; kind: string; description?: string | null; verification: VerificationConfig; secrets: string[]; enabled?: boolean; retentionDays?: number | null | undefined },
): Promise<boolean> {
  const sealed = await Promise.all(input.secrets.map((s) => sealSecret(secretsKey, s)));
  const now = nowIso();
  const insertSource = db.insert(sources).values({
    id: input.id,
    kind: input.kind,
    description: input.description ?? null,
    verification: JSON.stringify(input.verification),
    enabled: input.enabled ?? true,
    retentionDays: input.retentionDays ?? null,
    createdAt: now,
    updatedAt: now,
  });
  const insertSecrets = sealed.map((ciphertext, i) =>
    db.insert(sourceSecrets).values({ sourceId: input.id, n: i + 1, ciphertext, createdAt: now }),
  );
  try {
    // One atomic batch: a taken id fails the source insert and rolls the secrets back with it.
    await db.batch([insertSource, ...insertSecrets]);
    return true;
  } catch (e) {
    if (String((e as Error)?.message ?? e).includes("UNIQUE constraint failed: sources.id")) return false;
    throw e;
  }
}

export async function updateSource(
  db: Db,
  id: string,
  patch: { description?: string | null; verification?: VerificationConfig; enabled?: boolean; retentionDays?: number | null | undefined },
): Promise<boolean> {
  const set: Partial<typeof sources.$inferInsert> = { updatedAt: nowIso() };
  if (patch.description !== undefined) set.description = patch.description;
  if (patch.verification !== undefined) set.verification = JSON.stringify(patch.verification);
  if (patch.enabled !== undefined) set.enabled = patch.enabled;
  if (patch.retentionDays !== undefined) set.retentionDays = patch.retentionDays;
  const rows = await db.update(sources).set(set).where(eq(sources.id, id)).returning({ id: sources.id });
  return rows.length === 1;
}

/** Adds a secret (rotation: the old ones stay valid until removed); returns its number. */
export async function addSourceSecret(db: Db, secretsKey: string | undefined, id: string, secret: string): Promise<number> {
  const ciphertext = await sealSecret(secretsKey, secret);
  const [current] = await db.select({ n: max(sourceSecrets.n) }).from(sourceSecrets).where(eq(sourceSecrets.sourceId, id));
  const n = (current?.n ?? 0) + 1;
  await db.batch([
    db.insert(sourceSecrets).values({ sourceId: id, n, ciphertext, createdAt: nowIso() }),
    db.update(sources).set({ updatedAt: nowIso() }).where(eq(sources.id, id)),
  ]);
  return n;
}

export async function removeSourceSecret(db: Db, id: string, n: number): Promise<boolean> {
  const rows = await db
    .delete(sourceSecrets)
    .where(and(eq(sourceSecrets.sourceId, id), eq(sourceSecrets.n, n)))
    .returning({ n: sourceSecrets.n });
  return rows.length === 1;
}

export async function countSourceSecrets(db: Db, id: string): Promise<number> {
  const rows = await db.select({ n: sourceSecrets.n }).from(sourceSecrets).where(eq(sourceSecrets.sourceId, id));
  return rows.length;
}

export async function resolveSource(db: Db, secretsKey: string | undefined, id: string): Promise<ResolvedSource | null> {
  const rows = await db
    .select({ source: sources, ciphertext: sourceSecrets.ciphertext })
    .from(sources)
    .leftJoin(sourceSecrets, eq(sourceSecrets.sourceId, sources.id))
    .where(eq(sources.id, id));
  const first = rows[0];
  if (!first) return null;
  const secrets = await Promise.all(
    rows.flatMap((r) => (r.ciphertext ? [openSecret(secretsKey, r.ciphertext)] : [])),
  );
  return {
    id: first.source.id,
    kind: first.source.kind,
    enabled: first.source.enabled,
    verification: verificationConfig.parse(JSON.parse(first.source.verification)),
    secrets,
  };
}
