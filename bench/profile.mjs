// bench/profile: a V8 CPU profile of the Worker under `wrangler dev` (its request handlers, queue consumers
// and Durable Objects run in the one isolate the dev inspector shows), taken through wrangler's inspector
// while a bench (or any load) runs, and printed as the functions with the most samples, by self and by
// inclusive time.
//
//   npx node bench/payments.mjs &   # or any bench; then, once its load is on:
//   npx node bench/profile.mjs [seconds=8] [inspector port=9229] [file=$TMPDIR/claimgate.cpuprofile]
//
// The .cpuprofile file opens in Chrome DevTools (Performance) or speedscope. Line numbers are those of
// wrangler's bundle (removed when wrangler stops); function names are the source's. Why a profile of the JavaScript
// and not only perf: perf sees workerd's native frames but V8's generated code only as [JIT] addresses, and
// it was this profile that found stop 27's costs (a log line per payment, a comparator building its keys on
// every comparison, drizzle building a multi-row insert per batch).
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";

const seconds = Number(process.argv[2] ?? 8);
const port = Number(process.argv[3] ?? 9229);
const file = process.argv[4] ?? `${tmpdir()}/claimgate.cpuprofile`;

const [target] = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
if (!target) throw new Error(`no inspector target on port ${port}: is wrangler dev running?`);
// wrangler's inspector proxy accepts DevTools-like origins only (Node's WebSocket takes undici's headers)
const ws = new WebSocket(target.webSocketDebuggerUrl, { headers: { origin: "http://localhost" } });
await new Promise((resolve, reject) => {
  ws.onopen = resolve;
  ws.onerror = (e) => reject(new Error(`inspector: ${e.message ?? "connection refused"}`));
});
let next = 0;
const waiting = new Map();
ws.onmessage = ({ data }) => {
  const message = JSON.parse(String(data));
  waiting.get(message.id)?.(message);
  waiting.delete(message.id);
};
const send = (method, params = {}) =>
  new Promise((resolve) => {
    const id = ++next;
    waiting.set(id, resolve);
    ws.send(JSON.stringify({ id, method, params }));
  });

await send("Profiler.enable");
await send("Profiler.setSamplingInterval", { interval: 200 }); // µs
await send("Profiler.start");
await new Promise((r) => setTimeout(r, seconds * 1000));
const { result, error } = await send("Profiler.stop");
ws.close();
if (!result) throw new Error(`Profiler.stop: ${JSON.stringify(error)}`);
const { profile } = result;
writeFileSync(file, JSON.stringify(profile));

const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
const name = (id) => {
  const { functionName, url, lineNumber } = nodes.get(id).callFrame;
  return `${functionName || "(anonymous)"} ${url.split("/").pop() ?? ""}:${lineNumber + 1}`;
};
const self = new Map();
const inclusive = new Map();
for (const id of profile.samples) {
  self.set(name(id), (self.get(name(id)) ?? 0) + 1);
  const seen = new Set();
  for (let at = id; at !== undefined; at = parent.get(at)) {
    const key = name(at);
    if (!seen.has(key)) inclusive.set(key, (inclusive.get(key) ?? 0) + 1);
    seen.add(key);
  }
}
const total = profile.samples.length;
const top = (counts, n) =>
  [...counts]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([key, count]) => `${((100 * count) / total).toFixed(1).padStart(5)} %  ${key}`)
    .join("\n");
console.log(`${total} samples over ${seconds} s → ${file}\n\nself:\n${top(self, 30)}\n\ninclusive:\n${top(inclusive, 40)}`);
