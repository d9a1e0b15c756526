// The standalone validator test/fhir/schema.setup.mjs generates from the official FHIR R4B JSON schema
// (aliased in vitest.config.ts; the file itself is generated, not committed).
declare module "fhir-r4b-payment-reconciliation" {
  const validate: ((data: unknown) => boolean) & { errors?: { instancePath: string; message?: string }[] | null };
  export default validate;
}
