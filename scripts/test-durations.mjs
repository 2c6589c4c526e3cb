// Rewrites test/durations.json from the last full run (test-results/durations.json, written by
// `npm test`'s durations reporter): each file's seconds, longest first, the order in which
// test/support/slowest-first.ts starts them. Run it after a full `npm test` on an idle machine.
import { readFileSync, writeFileSync } from "node:fs";

const last = JSON.parse(readFileSync("test-results/durations.json", "utf8"));
const sorted = Object.fromEntries(Object.entries(last).sort(([, a], [, b]) => b - a));
writeFileSync("test/durations.json", `${JSON.stringify(sorted, null, 2)}\n`);
const total = Object.values(sorted).reduce((s, d) => s + d, 0);
console.log(`test/durations.json: ${Object.keys(sorted).length} files, ${total.toFixed(0)} s in all`);
