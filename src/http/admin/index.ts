import { Hono } from "hono";
import type { AppContext } from "../../env";
import { adminAudit, auditTrail } from "./audit";
import { requireAdmin } from "./auth";
import { adminDeliveries } from "./deliveries";
import { adminEvents } from "./events";
import { adminPayor } from "./payor";
import { adminSources } from "./sources";
import { adminSubscriptions } from "./subscriptions";

export const admin = new Hono<AppContext>();
admin.use("*", requireAdmin);
admin.use("*", auditTrail);
admin.route("/audit", adminAudit);
admin.route("/sources", adminSources);
admin.route("/subscriptions", adminSubscriptions);
admin.route("/deliveries", adminDeliveries);
admin.route("/events", adminEvents);
admin.route("/", adminPayor);
