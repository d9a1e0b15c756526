// bench/round-trip-cost: what one D1 round trip costs on this machine's local runtime, next to a request
// that does nothing, in the same Worker and the same run (bench/counted-worker.ts's probe routes). The
// other benches count round trips per event; this turns a count into time.
import { rmSync } from "node:fs";
import { countedConfig, load, round, startWorker, writeResult } from "./lib.mjs";

const N = Number(process.env.BENCH_PROBE_REQUESTS ?? 3000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 50);
const PROBES = ["empty", "one", "five-sequential", "five-in-one-batch"];

const config = countedConfig();
const { base, stop } = await startWorker(8795, { config });
try {
  const rps = Object.fromEntries(PROBES.map((p) => [p, []]));
  // warm-up, then three alternating rounds of every probe; the median round counts
  for (const p of PROBES) await load({ count: 300, concurrency: CONCURRENCY, make: () => ({ url: `${base}/__bench/probe/${p}` }) });
  for (let r = 0; r < 3; r++) {
    for (const p of PROBES) rps[p].push((await load({ count: N, concurrency: CONCURRENCY, make: () => ({ url: `${base}/__bench/probe/${p}` }) })).rps);
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const ms = Object.fromEntries(PROBES.map((p) => [p, 1000 / median(rps[p])]));
  const result = {
    config: { requests: N, concurrency: CONCURRENCY, rounds: 3 },
    requestsPerSecond: Object.fromEntries(PROBES.map((p) => [p, round(median(rps[p]))])),
    // the time one more round trip adds to a request, at saturation (so: the machine's cost of it)
    msPerRoundTrip: {
      one: round(ms.one - ms.empty),
      eachOfFiveSequential: round((ms["five-sequential"] - ms.empty) / 5),
      fiveInOneBatch: round(ms["five-in-one-batch"] - ms.empty),
    },
    emptyRequestMs: round(ms.empty),
  };
  const file = writeResult("round-trip-cost", result);
  console.log(JSON.stringify({ ...result, file }, null, 2));
} finally {
  stop();
  rmSync(config, { force: true });
}
