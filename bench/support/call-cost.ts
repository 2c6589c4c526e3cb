// What building and RESP-encoding the event script's call costs the consumer, per event, in each
// layout (call-layouts.ts: apply-events-7n's and apply-events-4a's), on the throughput mix cut into
// batches of 1, 16 and 64; median of 8 alternating repetitions. One process, no Redis.
//   node scripts/run-ts.mjs bench/support/call-cost.ts
// docs/performance.md "Lean call layout (eighth session)".
import { DEFAULT_PRICE_BOOK } from "@creditmeter/shared";
import encoderModule from "@redis/client/dist/lib/RESP/encoder.js";
import { accountKeys } from "../../server/src/ledger/keys.js";
import { call4a, call7n, type LayoutCall } from "./call-layouts.js";
import { mixedEvents } from "../scenarios/throughput.js";

// node-redis's own RESP encoder (a CommonJS default export: under tsx it arrives wrapped once more).
const wrapped = encoderModule as unknown as { default?: (a: string[]) => unknown[] };
const encodeCommand = wrapped.default ?? (encoderModule as unknown as (a: string[]) => unknown[]);
const accounts = Array.from({ length: 200 }, (_, i) => `acct-${i}`);
const opts = { priceBook: DEFAULT_PRICE_BOOK, holdTtlSeconds: 3600, idempotencyRetentionSeconds: 30 * 86400 };
const events = mixedEvents(accounts, 3600, "r0");
const keysOf = (id: string) => accountKeys("creditmeter", id);
type B = typeof call4a;
const run = (build: B, size: number): number => {
  let parts = 0;
  for (let i = 0; i < events.length; i += size) {
    const c: LayoutCall = build(events.slice(i, i + size), opts, keysOf, "34560000000");
    const enc = encodeCommand(["EVALSHA", "x".repeat(40), String(c.keys.length), ...c.keys, ...c.args]);
    parts += enc.length;
  }
  return parts;
};
for (const size of [1, 16, 64]) {
  const res: Record<string, number[]> = { "7n": [], "4a": [] };
  const chunks: Record<string, number> = {};
  for (let rep = 0; rep < 8; rep++) {
    for (const [name, b] of [
      ["7n", call7n],
      ["4a", call4a],
    ] as const) {
      const t = process.hrtime.bigint();
      chunks[name] = run(b as B, size);
      res[name]?.push(Number(process.hrtime.bigint() - t) / 1000 / events.length);
    }
  }
  const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]?.toFixed(2);
  console.log(
    size,
    "7n µs/event",
    med(res["7n"] ?? []),
    "4a",
    med(res["4a"] ?? []),
    "encoded parts/event",
    ((chunks["7n"] ?? 0) / events.length).toFixed(1),
    ((chunks["4a"] ?? 0) / events.length).toFixed(1),
  );
}
