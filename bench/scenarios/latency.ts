import { deploy, seedAccounts, waitDrained } from "../support/deploy.js";
import {
  LatencyTracker,
  balanceMismatches,
  mismatches,
  offer,
  warmEveryPanel,
  type RateResult,
} from "../support/offered-load.js";
import { closePanels, openPanels } from "../support/panels.js";
import { report, table } from "../support/report.js";
import { fmt } from "../support/stats.js";
import { floorStep } from "./latency-floor.js";
import type { ScenarioOptions } from "./options.js";

/** The rows of a latency table. */
export function latencyRows(results: RateResult[], label = ""): (string | number)[][] {
  return results.map((r) => [
    ...(label ? [label] : []),
    r.offered,
    fmt(r.achieved, 0),
    `${r.delivered}/${r.sent}`,
    fmt(r.latencyMs.p50),
    fmt(r.latencyMs.p95),
    fmt(r.latencyMs.p99),
    fmt(r.latencyMs.max),
    `${fmt(r.splitMs.queue)} / ${fmt(r.splitMs.ledger)} / ${fmt(r.splitMs.delivery)}`,
    `${fmt(r.benchLoopDelayP99Ms, 1)} / ${fmt(r.benchLoopDelayMaxMs, 0)}`,
    `${fmt(r.serverLoopDelayP99Ms, 1)} / ${fmt(r.serverLoopDelayMaxMs, 0)}`,
    fmt(r.balancePushesPerPanelS, 1),
    fmt(r.balanceWritesPerEvent, 1),
    `${fmt(r.serverCpuMsPerEvent, 3)} / ${fmt(r.benchCpuMsPerEvent, 3)}`,
    r.serverGc ? `${fmt(r.serverGc.msPerS, 1)} / ${r.serverGc.count} / ${r.serverGc.over10ms}` : "–",
  ]);
}

export const LATENCY_HEADERS = [
  "offered ev/s",
  "achieved",
  "delivered",
  "p50 ms",
  "p95 ms",
  "p99 ms",
  "max ms",
  "mean queue / ledger / push ms",
  "bench loop p99 / max ms",
  "server loop p99 / max ms",
  "balance pushes /panel/s",
  "balance writes /event",
  "CPU ms/event server / bench",
  "server GC ms/s / collections / ≥ 10 ms",
];

/** K panels, `perAccount` of them on each account (each balance update goes to that many sockets). */
export interface Layout {
  label: string;
  perAccount: number;
  rates: number[];
}

/**
 * `BENCH_LAYOUTS=1:1000,100:200+1000` (panels per account : rates) runs only those steps, for
 * profiling one layout (docs/performance.md); unset, the three layouts below.
 */
function layoutsFromEnv(spec: string | undefined): Layout[] | null {
  if (!spec) return null;
  return spec.split(",").map((part) => {
    const [per, rates] = part.split(":");
    const perAccount = Number(per);
    return { label: `${perAccount} per account`, perAccount, rates: (rates ?? "1000").split("+").map(Number) };
  });
}

/** The three account sizes: a person and their panel, a small team, a team account of 100 open panels. */
export function latencyLayouts(quick: boolean): Layout[] {
  const chosen = layoutsFromEnv(process.env.BENCH_LAYOUTS);
  if (chosen) return chosen;
  return [
    { label: "1 panel per account", perAccount: 1, rates: quick ? [200, 1000] : [200, 1000, 3000] },
    { label: "10 panels per account", perAccount: 10, rates: [1000] },
    { label: "100 panels per account", perAccount: 100, rates: [1000] },
  ];
}

/**
 * Scenario 2: publish→panel latency at fixed offered rates with K panels watching sessions, in
 * each of the three layouts (`latencyLayouts`).
 */
export async function latency(opts: ScenarioOptions): Promise<unknown> {
  return runLayouts("latency", "2. Publish→panel latency", latencyLayouts(opts.quick), opts);
}

/** Runs `layouts` one after another on one server process and reports them under `name`. */
export async function runLayouts(
  name: string,
  title: string,
  layouts: Layout[],
  opts: ScenarioOptions,
): Promise<unknown> {
  const panelsCount = opts.quick ? 500 : 2000;
  const seconds = opts.quick ? 3 : 10;
  const dep = await deploy();
  const tracker = new LatencyTracker();
  try {
    const node = await dep.start("all");
    const url = node.url ?? "";
    const rows: (string | number)[][] = [];
    const data: {
      layout: string;
      panels: number;
      results: RateResult[];
      panelsNotEqualToLedger: number;
      balancesNotEqualToLedger: number;
    }[] = [];
    for (const layout of layouts) {
      const accounts = await seedAccounts(dep, Math.ceil(panelsCount / layout.perAccount), `acct${layout.perAccount}`);
      const panels = await openPanels(
        dep,
        [url],
        accounts,
        panelsCount,
        (p, u) => tracker.seen(p, u),
        layout.perAccount,
      );
      await warmEveryPanel(dep, panels, tracker, [url], `warm${layout.perAccount}`);
      const results: RateResult[] = [];
      for (const rate of layout.rates) {
        process.stdout.write(`${layout.label}, ${rate} ev/s: starting\n`);
        const r = await offer(dep, panels, tracker, [url], rate, seconds, `r${layout.perAccount}-${rate}`);
        // The step's window, to cut a server CPU profile to it (bench/support/cpuprofile-summary.ts).
        const calls = r.redisCallsPerEvent.map((c) => `${c.command} ${c.callsPerJob.toFixed(2)}`).join(", ");
        process.stdout.write(`${layout.label}, ${rate} ev/s: --from=${r.monoUs.from} --to=${r.monoUs.to}\n`);
        process.stdout.write(`  Redis calls per event: ${calls}\n`);
        results.push(r);
      }
      // A step that lagged is still draining: the final numbers are compared once it is done.
      await waitDrained(dep.queue, 120_000);
      const settled = Date.now() + 10_000;
      while (tracker.outstanding() > 0 && Date.now() < settled) await new Promise((r) => setTimeout(r, 20));
      const wrong = await mismatches(dep, panels);
      const wrongBalances = await balanceMismatches(dep, panels);
      closePanels(panels);
      rows.push(...latencyRows(results, layout.label));
      data.push({
        layout: layout.label,
        panels: panelsCount,
        results,
        panelsNotEqualToLedger: wrong,
        balancesNotEqualToLedger: wrongBalances,
      });
    }
    // The floor only where the full layouts run (not `fanout`, which works on one layout).
    const floor = name === "latency" ? await floorStep(dep, panelsCount, 1000, seconds) : null;
    if (floor) rows.push(...latencyRows([floor], "floor: BullMQ + Socket.IO alone, 1 per account"));
    const md =
      table(["layout", ...LATENCY_HEADERS], rows) +
      `\n\n${panelsCount} panels, ${seconds} s per rate, one server process; panels whose final session number differs from the ledger: **${data.map((d) => d.panelsNotEqualToLedger).join(" / ")}**, ` +
      `whose final balance differs or went backwards: **${data.map((d) => d.balancesNotEqualToLedger).join(" / ")}**` +
      "\n(targets at 1,000 ev/s with 2,000 panels, none lost: p99 ≤ 10 ms at 1 and 10 per account, ≤ 25 ms at 100 per account)" +
      (floor
        ? "\n(the floor: bench/support/floor-server.ts, the consumer's BullMQ worker settings and Socket.IO doing one `session:update` per event, nothing else, on the same redis-server, with the same load and panel sockets)"
        : "");
    report(name, title, md, { seconds, layouts: data, floor }, opts.quick);
    return data;
  } finally {
    await dep.close();
  }
}
