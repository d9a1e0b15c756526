import { Hono } from "hono";
import type { AppContext } from "../../env";
import { requireAdmin } from "./auth";
import { adminSources } from "./sources";

export const admin = new Hono<AppContext>();
admin.use("*", requireAdmin);
admin.route("/sources", adminSources);
