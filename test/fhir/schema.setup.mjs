// Vitest global setup (runs in Node, before the workerd test files load): compiles the official FHIR
// R4B JSON schema (hl7.fhir.r4b.core 4.3.0, openapi/fhir.schema.json) into a standalone ajv validator
// for PaymentReconciliation. Workers may not compile code at run time (no eval / new Function), so the
// tests in workerd import the generated module instead of running ajv themselves.
import Ajv from "ajv";
import draft6 from "ajv/dist/refs/json-schema-draft-06.json" with { type: "json" };
import standaloneCode from "ajv/dist/standalone/index.js";
import { createRequire } from "node:module";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
export const GENERATED = join(here, "..", ".generated", "fhir-r4b-payment-reconciliation.mjs");
const SCHEMA_ID = "http://hl7.org/fhir/json-schema/4.3";

export default function setup() {
  const schemaPath = createRequire(import.meta.url).resolve("hl7.fhir.r4b.core/openapi/fhir.schema.json");
  if (existsSync(GENERATED) && statSync(GENERATED).mtimeMs > statSync(schemaPath).mtimeMs) return;
  const schema = JSON.parse(readFileSync(schemaPath, "utf8"));
  // The root's discriminator/oneOf select a resource by resourceType; we compile one definition, by $ref.
  delete schema.discriminator;
  delete schema.oneOf;
  delete schema.id;
  schema.$id = SCHEMA_ID;
  // `contained` may hold any resource, which would compile every resource definition (megabytes of code
  // the test runtime cannot load). We never produce contained resources, so it is held to none at all:
  // stricter than the schema, never looser.
  schema.definitions.PaymentReconciliation.properties.contained = { type: "array", maxItems: 0 };
  const ajv = new Ajv({ strict: false, allErrors: true, code: { source: true, esm: true } });
  ajv.addMetaSchema(draft6);
  ajv.addSchema(schema);
  const validate = ajv.compile({ $ref: `${SCHEMA_ID}#/definitions/PaymentReconciliation` });
  mkdirSync(dirname(GENERATED), { recursive: true });
  writeFileSync(GENERATED, standaloneCode(ajv, validate));
}
