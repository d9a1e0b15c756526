// Seeds the local D1 database with the demo sources in scripts/dev-sources.json (idempotent), their
// secrets encrypted with the SECRETS_KEY of .dev.vars exactly as the Worker does (src/crypto/secret-box.ts).
// Creates .dev.vars from .dev.vars.example when it is missing.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { webcrypto } from "node:crypto";

const root = new URL("..", import.meta.url).pathname;
if (!existsSync(`${root}.dev.vars`)) {
  copyFileSync(`${root}.dev.vars.example`, `${root}.dev.vars`);
  console.log("created .dev.vars from .dev.vars.example");
}
const vars = Object.fromEntries(
  readFileSync(`${root}.dev.vars`, "utf8")
    .split("\n")
    .filter((l) => /^[A-Z_]+=/.test(l))
    .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1).trim()]),
);
const rawKey = Buffer.from(vars.SECRETS_KEY ?? "", "base64");
if (rawKey.length !== 32) throw new Error("SECRETS_KEY in .dev.vars must be base64 of 32 bytes");
const key = await webcrypto.subtle.importKey("raw", rawKey, "AES-GCM", false, ["encrypt"]);

async function seal(plaintext) {
  const iv = webcrypto.getRandomValues(new Uint8Array(12));
  const ct = new Uint8Array(await webcrypto.subtle.encrypt({ name: "AES-GCM", iv }, key, new TextEncoder().encode(plaintext)));
  return "v1:" + Buffer.concat([iv, ct]).toString("base64");
}

const q = (v) => (v === null || v === undefined ? "NULL" : `'${String(v).replaceAll("'", "''")}'`);
const now = new Date().toISOString();
const { sources, coveragePlans = [], providerKeys = [] } = JSON.parse(readFileSync(`${root}scripts/dev-sources.json`, "utf8"));
const sql = [];
for (const s of sources) {
  sql.push(
    `INSERT INTO sources (id, kind, description, verification, enabled, created_at, updated_at) VALUES (${q(s.id)}, ${q(s.kind)}, ${q(s.description)}, ${q(JSON.stringify(s.verification))}, 1, ${q(now)}, ${q(now)}) ` +
      `ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, description = excluded.description, verification = excluded.verification, enabled = 1, updated_at = excluded.updated_at;`,
  );
  sql.push(`DELETE FROM source_secrets WHERE source_id = ${q(s.id)};`);
  for (const [i, secret] of s.secrets.entries()) {
    sql.push(`INSERT INTO source_secrets (source_id, n, ciphertext, created_at) VALUES (${q(s.id)}, ${i + 1}, ${q(await seal(secret))}, ${q(now)});`);
  }
}
for (const p of coveragePlans) {
  sql.push(
    `INSERT INTO coverage_plans (insurance_id, payor_id, plan_name, active_from, active_to, coinsurance_bps, copay_cents, excluded_cpt, excluded_icd, covered_cpt, auto_approve_ceiling_cents, updated_at) VALUES (${q(p.insuranceId)}, ${q(p.payorId)}, ${q(p.planName)}, ${q(p.activeFrom)}, ${q(p.activeTo)}, ${p.coinsuranceBps}, ${p.copayCents}, ${q(JSON.stringify(p.excludedCpt))}, ${q(JSON.stringify(p.excludedIcd))}, ${p.coveredCpt ? q(JSON.stringify(p.coveredCpt)) : "NULL"}, ${p.autoApproveCeilingCents}, ${q(now)}) ` +
      `ON CONFLICT(insurance_id) DO NOTHING;`,
  );
}
for (const k of providerKeys) {
  // provider keys are stored as SHA-256 hashes (src/payor/repository.ts)
  const hash = Buffer.from(await webcrypto.subtle.digest("SHA-256", new TextEncoder().encode(k.key))).toString("hex");
  sql.push(`INSERT INTO provider_keys (id, provider_id, key_hash, label, created_at) VALUES (${q(`pk_dev_${k.providerId}`)}, ${q(k.providerId)}, ${q(hash)}, ${q(k.label)}, ${q(now)}) ON CONFLICT DO NOTHING;`);
}
mkdirSync(`${root}.wrangler`, { recursive: true });
const file = `${root}.wrangler/seed-dev.sql`;
writeFileSync(file, sql.join("\n") + "\n");
const run = spawnSync("npx", ["wrangler", "d1", "execute", "DB", "--local", `--file=${file}`], { stdio: "inherit", cwd: root });
if (run.status !== 0) process.exit(run.status ?? 1);
console.log(`seeded ${sources.length} demo sources: ${sources.map((s) => s.id).join(", ")}`);
