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

/** Scenario 2: publish→panel latency at fixed offered rates with K panels watching sessions. */
export async function latency(opts: ScenarioOptions): Promise<unknown> {
  const panelsCount = opts.quick ? 500 : 2000;
  const rates = opts.quick ? [200, 1000] : [200, 1000, 3000];
  const seconds = opts.quick ? 3 : 10;
  const dep = await deploy();
  const tracker = new LatencyTracker();
  try {
    const accounts = await seedAccounts(dep, Math.ceil(panelsCount / 10));
    const node = await dep.start("all");
    const url = node.url ?? "";
    const panels = await openPanels(dep, [url], accounts, panelsCount, (p, u) => tracker.seen(p, u));
    await offer(dep, panels, tracker, [url], 100, 1, "warm");
    const results: RateResult[] = [];
    for (const rate of rates) results.push(await offer(dep, panels, tracker, [url], rate, seconds, `r${rate}`));
    const wrong = await mismatches(dep, panels);
    closePanels(panels);
    const md =
      table(LATENCY_HEADERS, latencyRows(results)) +
      `\n\n${panelsCount} panels, ${seconds} s per rate, one server process; panels whose final number differs from the ledger: **${wrong}**` +
      "\n(target: p99 ≤ 10 ms at 1,000 ev/s with 2,000 panels, none lost)";
    const data = { panels: panelsCount, seconds, results, panelsNotEqualToLedger: wrong };
    report("latency", "2. Publish→panel latency", md, data, opts.quick);
    return data;
  } finally {
    await dep.close();
  }
}
