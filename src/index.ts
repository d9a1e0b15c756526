import { buildApp } from "./app";
import { database } from "./db/client";
import type { Env, EventMessage } from "./env";
import { sweepPendingEvents } from "./ingest/outbox-sweep";
import { errorText, log } from "./log";
import { consumeEvents, consumeEventsDeadLetters, EVENTS_DLQ, EVENTS_QUEUE } from "./queue/events-consumer";

export { ClaimLifecycle } from "./lifecycle/claim-lifecycle";

const app = buildApp();

export default {
  fetch: app.fetch,

  async queue(batch: MessageBatch<unknown>, env: Env): Promise<void> {
    switch (batch.queue) {
      case EVENTS_QUEUE:
        return consumeEvents(batch as MessageBatch<EventMessage>, env);
      case EVENTS_DLQ:
        return consumeEventsDeadLetters(batch as MessageBatch<EventMessage>, env);
      default:
        log.error("queue.unknown", { queue: batch.queue });
        batch.retryAll({ delaySeconds: 60 });
    }
  },

  async scheduled(_controller: ScheduledController, env: Env, ctx: ExecutionContext): Promise<void> {
    ctx.waitUntil(
      sweepPendingEvents(env, database(env.DB)).catch((e) => log.error("sweep.failed", { error: errorText(e) })),
    );
  },
} satisfies ExportedHandler<Env>;
