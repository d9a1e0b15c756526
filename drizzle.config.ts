import { defineConfig } from "drizzle-kit";

// drizzle-kit writes flat migrations/NNNN_name.sql files; `wrangler d1 migrations apply`
// and the test harness (readD1Migrations) both read that folder.
export default defineConfig({
  dialect: "sqlite",
  schema: "./src/db/schema.ts",
  out: "./migrations",
});
