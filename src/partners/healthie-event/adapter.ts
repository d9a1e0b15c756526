import { z } from "zod";
import { idLike } from "../lenient";
import { defineAdapter } from "../types";

/** The domain event a Healthie thin event becomes, delivered with the body as Healthie sent it. */
export const HEALTHIE_EVENT = "healthie.event";

/**
 * healthie.event: Healthie's thin webhook body (docs.gethealthie.com/guides/webhooks): which resource
 * changed and how, with no content (`changed_fields` on updates). It names no claim, so it is stored and
 * delivered as is for subscribers to fetch the resource from Healthie themselves.
 */
export const healthieEventBody = z.looseObject({
  resource_id: idLike,
  resource_id_type: z.string().min(1, "must not be empty"),
  event_type: z.string().min(1, "must not be empty"),
  changed_fields: z.array(z.string()).nullish(),
});

export const healthieEvent = defineAdapter({
  kind: "healthie.event",
  schema: healthieEventBody,
  async project({ raw }) {
    return { produced: [{ type: HEALTHIE_EVENT, claimId: null, lifecycleId: null, payload: raw }] };
  },
});
