import { describe, expect, it } from "vitest";
import wranglerToml from "../../wrangler.toml?raw";
import { RELOADS_PER_BATCH } from "../../src/lifecycle/unheld";
import { EVENTS_QUEUE, PROJECTION_CONCURRENCY } from "../../src/queue/events-consumer";

/** A queue consumer's setting as wrangler.toml writes it (its [[queues.consumers]] block). */
function consumerSetting(queue: string, key: string): number {
  const block = wranglerToml.split(/\n(?=\[)/).find((b) => b.startsWith("[[queues.consumers]]") && b.includes(`\nqueue = "${queue}"\n`));
  const value = block?.match(new RegExp(`^${key} = (\\d+)$`, "m"))?.[1];
  if (!value) throw new Error(`wrangler.toml: no ${key} for the ${queue} consumer`);
  return Number(value);
}

// The events consumer's batch size is written in three places: wrangler.toml's max_batch_size, how many of
// a batch's projections run at once (so all of them share their round trips, src/db/coalesce.ts), and how
// many lifecycles the projection reloads per D1 batch (src/lifecycle/unheld.ts). Changing one alone would
// quietly split a message batch's work into more round trips.
describe("the events batch size", () => {
  it("is the same in wrangler.toml, the projection's concurrency and the unheld reloads", () => {
    const size = consumerSetting(EVENTS_QUEUE, "max_batch_size");
    expect(PROJECTION_CONCURRENCY).toBe(size);
    expect(RELOADS_PER_BATCH).toBe(size);
  });
});
