import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";

/**
 * One object per claim lifecycle (original, corrected and resubmitted claims share one). Everything that
 * changes a lifecycle's money or order-sensitive state runs here, one request at a time.
 */
export class ClaimLifecycle extends DurableObject<Env> {}
