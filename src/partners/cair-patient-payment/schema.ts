import { z } from "zod";
import { exactCents } from "../../domain/money";
import { MAX_MONEY } from "../fhir";

const dateOrDateTime = z.union(
  [z.iso.date(), z.iso.datetime({ offset: true })],
  { error: "must be an ISO date (YYYY-MM-DD) or date-time" },
);

/** The Cair patient-payment body. Amounts are USD with at most 2 decimals, converted to cents here. */
export const patientPaymentBody = z.strictObject({
  billId: z.string().trim().min(1, "must not be empty").max(128),
  paymentAmount: z
    .number({ error: "must be a number" })
    .positive("must be greater than 0")
    .max(MAX_MONEY, "must not exceed 100,000,000.00")
    .refine((v) => exactCents(v) !== null, "must have at most 2 decimal places"),
  paymentDate: dateOrDateTime.optional(),
  paymentMethod: z.string().trim().min(1).max(64).optional(),
  paymentTraceId: z.string().trim().min(1).max(255).optional(),
});

export type PatientPaymentBody = z.output<typeof patientPaymentBody>;

export const reversalBody = z.strictObject({ paymentTraceId: z.string().trim().min(1).max(255) });
