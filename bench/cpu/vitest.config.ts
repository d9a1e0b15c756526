import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// The CPU benchmark runs inside workerd like the tests, but is not part of `npm test`.
const migrations = await readD1Migrations(fileURLToPath(new URL("../../migrations", import.meta.url)));

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "../../wrangler.toml" },
      miniflare: { bindings: { TEST_MIGRATIONS: migrations, SECRETS_KEY: "dGVzdC1vbmx5LXNlY3JldHMta2V5LTMyLWJ5dGVzISE=" } },
    }),
  ],
  test: { root: fileURLToPath(new URL(".", import.meta.url)), include: ["*.test.ts"], testTimeout: 120_000 },
});
