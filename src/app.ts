import type { AppContext } from "./env";
import { admin } from "./http/admin";
import { claimsApi } from "./http/claims";
import { creditsApi, patientsApi } from "./http/credits";
import { consoleApp } from "./http/console";
import { docsRoutes } from "./http/docs";
import { deliveryPayloads } from "./http/delivery-payloads";
import { patientPayments } from "./http/patient-payments";
import { handleError, notFound } from "./http/error-handler";
import { router } from "./http/route";
import { webhooks } from "./http/webhooks";

export function buildApp() {
  const app = router<AppContext>();
  app.route("/", docsRoutes(app));
  app.route("/console", consoleApp);
  app.route("/webhooks", webhooks);
  app.route("/admin", admin);
  app.route("/api/claims", claimsApi);
  app.route("/api/webhooks/patient-payment", patientPayments);
  app.route("/api/patients", patientsApi);
  app.route("/api/credits", creditsApi);
  app.route("/api/deliveries", deliveryPayloads);
  app.notFound(notFound);
  app.onError(handleError);
  return app;
}
