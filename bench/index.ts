// `npm run bench [-- --quick] [-- --only=throughput,latency]`: runs the scenarios one after another,
// each on its own redis-server and server processes; see docs/performance.md.
import { throughput } from "./scenarios/throughput.js";
import { latency } from "./scenarios/latency.js";
import { fanout } from "./scenarios/fanout.js";
import { connections } from "./scenarios/connections.js";
import { nodes } from "./scenarios/nodes.js";
import { ledger } from "./scenarios/ledger.js";
import { memory } from "./scenarios/memory.js";
import { history } from "./scenarios/history.js";
import type { ScenarioOptions } from "./scenarios/options.js";

const SCENARIOS: Record<string, (opts: ScenarioOptions) => Promise<unknown>> = {
  throughput,
  latency,
  fanout,
  connections,
  nodes,
  ledger,
  memory,
  history,
};

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const only = args
  .find((a) => a.startsWith("--only="))
  ?.slice("--only=".length)
  .split(",");
const unknown = only?.filter((name) => !(name in SCENARIOS)) ?? [];
if (unknown.length) {
  process.stderr.write(`unknown scenario(s): ${unknown.join(", ")}; known: ${Object.keys(SCENARIOS).join(", ")}\n`);
  process.exit(2);
}
// Run only when named: `fanout` repeats latency's 100-per-account layout alone, for working on it.
const OPT_IN = new Set(["fanout"]);
const started = performance.now();
for (const [name, run] of Object.entries(SCENARIOS)) {
  if (only ? !only.includes(name) : OPT_IN.has(name)) continue;
  process.stdout.write(`\n== ${name} ==\n`);
  await run({ quick });
}
process.stdout.write(`\nbench done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
process.exit(0);
