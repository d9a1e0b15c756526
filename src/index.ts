import { buildApp } from "./app";
import { database } from "./db/client";
import { consumeDeliveries, consumeDeliveryDeadLetters, DELIVERIES_DLQ, DELIVERIES_QUEUE } from "./delivery/consumer";
import { fanOut, sweepPendingDeliveries } from "./delivery/fan-out";
import type { DeliveryMessage, Env, EventMessage } from "./env";
import { archiveDomainEventPayloads, archiveProcessedBodies, enforceRetention } from "./ingest/archive";
import { sweepPendingEvents } from "./ingest/outbox-sweep";
import { configureLogLevel, errorText, log } from "./log";
import { consumeEvents, consumeEventsDeadLetters, EVENTS_DLQ, EVENTS_QUEUE } from "./queue/events-consumer";

export { ClaimLifecycle } from "./lifecycle/claim-lifecycle";
export { SubscriptionThrottle } from "./delivery/throttle";

const app = buildApp();

export default {
  fetch(request: Request, env: Env, ctx: ExecutionContext) {
    configureLogLevel(env.LOG_LEVEL);
    return app.fetch(request, env, ctx);
  },

  async queue(batch: MessageBatch<unknown>, env: Env, _ctx: ExecutionContext): Promise<void> {
    configureLogLevel(env.LOG_LEVEL);
    switch (batch.queue) {
      case EVENTS_QUEUE:
        return consumeEvents(batch as MessageBatch<EventMessage>, env);
      case EVENTS_DLQ:
        return consumeEventsDeadLetters(batch as MessageBatch<EventMessage>, env);
      case DELIVERIES_QUEUE:
        return consumeDeliveries(batch as MessageBatch<DeliveryMessage>, env);
      case DELIVERIES_DLQ:
        return consumeDeliveryDeadLetters(batch as MessageBatch<DeliveryMessage>, env);
      default:
        log.error("queue.unknown", { queue: batch.queue });
        batch.retryAll({ delaySeconds: 60 });
    }
  },

  async scheduled(_controller: ScheduledController, env: Env, ctx: ExecutionContext): Promise<void> {
    configureLogLevel(env.LOG_LEVEL);
    const db = database(env.DB);
    const sweep = async (name: string, job: () => Promise<number>) => {
      try {
        await job();
      } catch (e) {
        log.error("sweep.failed", { sweep: name, error: errorText(e) });
      }
    };
    ctx.waitUntil(
      Promise.all([
        sweep("events", () => sweepPendingEvents(env, db)),
        // domain events a crash left un-fanned-out, then deliveries whose enqueue failed
        sweep("deliveries", async () => (await fanOut(env, db, 60)) + (await sweepPendingDeliveries(env, db))),
        // processed bodies out of D1 into R2, and archived bodies past their source's retention deleted
        sweep("archive", async () => (await archiveProcessedBodies(env, db)) + (await archiveDomainEventPayloads(env, db)) + (await enforceRetention(env, db))),
      ]),
    );
  },
} satisfies ExportedHandler<Env>;
