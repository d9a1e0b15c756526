import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { Plugin } from "vite";
import { defineConfig } from "vitest/config";
import { receiver } from "./test/receiver.ts";

const migrations = await readD1Migrations(fileURLToPath(new URL("./migrations", import.meta.url)));

/**
 * stripe and standardwebhooks publish sourcemaps that name TypeScript sources they do not ship, and Vite
 * warns once per module ("points to missing source files", ~219 lines per run). Their maps could never
 * resolve, so they are dropped when those files load: stack traces point into the shipped JavaScript.
 */
const dropUnresolvableDependencyMaps = (): Plugin => ({
  name: "drop-unresolvable-dependency-sourcemaps",
  enforce: "pre",
  async load(id) {
    const file = id.split("?")[0]!;
    if (!/[\\/]node_modules[\\/](stripe|standardwebhooks)[\\/].*\.[cm]?js$/.test(file)) return null;
    return { code: (await readFile(file, "utf8")).replace(/^\/\/# sourceMappingURL=.*$/gm, ""), map: null };
  },
});

export default defineConfig({
  resolve: {
    alias: { "fhir-r4b-payment-reconciliation": fileURLToPath(new URL("./test/.generated/fhir-r4b-payment-reconciliation.mjs", import.meta.url)) },
  },
  plugins: [
    dropUnresolvableDependencyMaps(),
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          TEST_MIGRATIONS: migrations,
          ADMIN_TOKEN: "test-admin-token",
          // base64 of 32 bytes, test only
          SECRETS_KEY: "dGVzdC1vbmx5LXNlY3JldHMta2V5LTMyLWJ5dGVzISE=",
          ENVIRONMENT: "development",
          SOURCE_CACHE_TTL_SECONDS: "0",
          // short gaps and timeout so retry, timeout and dead-letter paths run in seconds
          DELIVERY_RETRY_SCHEDULE: "1,1",
          DELIVERY_TIMEOUT_MS: "500",
          PUBLIC_URL: "https://claimgate.test",
          // lifecycle objects flush their outbox when a test says so (runDurableObjectAlarm, flush, or the
          // D1 readers of test/helpers/db.ts), never behind a test's back
          LIFECYCLE_FLUSH_DELAY_MS: "3600000",
        },
        // outbound fetches from the Worker reach a real local receiver (test/receiver.ts)
        outboundService: receiver as never,
      },
    }),
  ],
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["./test/setup.ts"],
    // Node side: the official FHIR R4B schema compiled to a standalone validator the workerd tests import.
    globalSetup: ["./test/fhir/schema.setup.mjs"],
    testTimeout: 30_000,
    // Logs of passing tests are noise; a failing test still prints its own.
    silent: "passed-only",
  },
});
