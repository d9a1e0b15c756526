import { z } from "zod";
import { EVENT_PATTERNS, eventTypeCatalog } from "../../delivery/event-types";
import { defineRoute, json, OPERATOR_ERRORS, serve } from "../route";
import { adminAudit } from "./audit";
import { operatorRouter } from "./auth";
import { adminOperators } from "./operators";
import { adminDeliveries } from "./deliveries";
import { adminEvents } from "./events";
import { adminLifecycles } from "./lifecycles";
import { adminPayor } from "./payor";
import { adminSources } from "./sources";
import { adminSubscriptions } from "./subscriptions";

export const admin = operatorRouter();

const eventTypesRoute = defineRoute({
  method: "get",
  path: "/event-types",
  tag: "delivery",
  summary: "The event types subscribers can receive: name, description, example data, JSON Schema",
  auth: "admin",
  responses: {
    200: json(
      z.object({
        data: z.array(z.object({ name: z.string(), description: z.string(), example: z.unknown(), schema: z.unknown() })),
        patterns: z.array(z.string()).meta({ description: "Names that stand for several types (`*`, CLAIMS_REMIT_ALL)" }),
      }),
      "The catalog",
    ),
    ...OPERATOR_ERRORS,
  },
});
serve(admin, eventTypesRoute, (c) => c.json({ data: eventTypeCatalog(), patterns: EVENT_PATTERNS }));

admin.route("/audit", adminAudit);
admin.route("/operators", adminOperators);
admin.route("/sources", adminSources);
admin.route("/subscriptions", adminSubscriptions);
admin.route("/deliveries", adminDeliveries);
admin.route("/events", adminEvents);
admin.route("/lifecycles", adminLifecycles);
admin.route("/", adminPayor);
