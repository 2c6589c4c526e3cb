import { deploy, seedAccounts } from "../support/deploy.js";
import { LatencyTracker, mismatches, offer, type RateResult } from "../support/offered-load.js";
import { closePanels, openPanels } from "../support/panels.js";
import { report, table } from "../support/report.js";
import { fmt } from "../support/stats.js";
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
  ]);
}

export const LATENCY_HEADERS = ["offered ev/s", "achieved", "delivered", "p50 ms", "p95 ms", "p99 ms", "max ms", "mean queue / ledger / push ms", "bench loop p99 / max ms", "server loop p99 / max ms"];

interface Layout {
  label: string;
  perAccount: number;
  rates: number[];
}

/**
 * Scenario 2: publish→panel latency at fixed offered rates with K panels watching sessions. Two
 * layouts of the same K panels: one per account (a person and their panel) and ten per account,
 * where every charge's balance update goes to ten sockets (the account room's fan-out).
 */
export async function latency(opts: ScenarioOptions): Promise<unknown> {
  const panelsCount = opts.quick ? 500 : 2000;
  const seconds = opts.quick ? 3 : 10;
  const layouts: Layout[] = [
    { label: "1 panel per account", perAccount: 1, rates: opts.quick ? [200, 1000] : [200, 1000, 3000] },
    { label: "10 panels per account", perAccount: 10, rates: [1000] },
  ];
  const dep = await deploy();
  const tracker = new LatencyTracker();
  try {
    const node = await dep.start("all");
    const url = node.url ?? "";
    const rows: (string | number)[][] = [];
    const data: { layout: string; panels: number; results: RateResult[]; panelsNotEqualToLedger: number }[] = [];
    for (const layout of layouts) {
      const accounts = await seedAccounts(dep, Math.ceil(panelsCount / layout.perAccount), `acct${layout.perAccount}`);
      const panels = await openPanels(dep, [url], accounts, panelsCount, (p, u) => tracker.seen(p, u), layout.perAccount);
      await offer(dep, panels, tracker, [url], 100, 1, `warm${layout.perAccount}`);
      const results: RateResult[] = [];
      for (const rate of layout.rates) results.push(await offer(dep, panels, tracker, [url], rate, seconds, `r${layout.perAccount}-${rate}`));
      const wrong = await mismatches(dep, panels);
      closePanels(panels);
      rows.push(...latencyRows(results, layout.label));
      data.push({ layout: layout.label, panels: panelsCount, results, panelsNotEqualToLedger: wrong });
    }
    const md =
      table(["layout", ...LATENCY_HEADERS], rows) +
      `\n\n${panelsCount} panels, ${seconds} s per rate, one server process; panels whose final number differs from the ledger: **${data.map((d) => d.panelsNotEqualToLedger).join(" / ")}**` +
      "\n(target: p99 ≤ 10 ms at 1,000 ev/s with 2,000 panels, none lost)";
    report("latency", "2. Publish→panel latency", md, { seconds, layouts: data }, opts.quick);
    return data;
  } finally {
    await dep.close();
  }
}
