import { deploy, seedAccounts, type Node } from "../support/deploy.js";
import { drain, type Drain } from "../support/drain.js";
import { LatencyTracker, mismatches, offer, warmEveryPanel, type RateResult } from "../support/offered-load.js";
import { closePanels, openPanels } from "../support/panels.js";
import { report, table } from "../support/report.js";
import { fmt } from "../support/stats.js";
import { mixedEvents } from "./throughput.js";
import { LATENCY_HEADERS, latencyRows } from "./latency.js";
import type { ScenarioOptions } from "./options.js";

const LAYOUTS: { name: string; roles: Node["role"][] }[] = [
  { name: "1 process (HTTP + consumer)", roles: ["all"] },
  { name: "2 processes (HTTP + consumer each)", roles: ["all", "all"] },
  { name: "2 HTTP + 1 consumer-only", roles: ["http", "http", "consumer"] },
];

/** Scenario 4: the same load on one and two server processes, and with the consumer separated. */
export async function nodes(opts: ScenarioOptions): Promise<unknown> {
  const n = opts.quick ? 3000 : 20_000;
  const panelsCount = opts.quick ? 200 : 1000;
  const rate = opts.quick ? 500 : 1000;
  const seconds = opts.quick ? 2 : 8;
  const out: { layout: string; drain: Drain; latency: RateResult; panelsNotEqualToLedger: number }[] = [];
  for (const layout of LAYOUTS) {
    const dep = await deploy();
    try {
      const accounts = await seedAccounts(dep, Math.max(100, panelsCount / 10));
      for (const role of layout.roles) await dep.start(role);
      const urls = dep.nodes.flatMap((x) => (x.url ? [x.url] : []));
      await drain(dep.queue, mixedEvents(accounts, 1000, "warm"), 60_000);
      const d = await drain(dep.queue, mixedEvents(accounts, n, "run"), 300_000);
      const tracker = new LatencyTracker();
      const panels = await openPanels(dep, urls, accounts, panelsCount, (p, u) => tracker.seen(p, u));
      await warmEveryPanel(dep, panels, tracker, urls, "warm-l");
      const latency = await offer(dep, panels, tracker, urls, rate, seconds, "lat");
      const wrong = await mismatches(dep, panels);
      closePanels(panels);
      out.push({ layout: layout.name, drain: d, latency, panelsNotEqualToLedger: wrong });
    } finally {
      await dep.close();
    }
  }
  const md =
    table(
      ["layout", "drain events/s", "failed"],
      out.map((o) => [o.layout, fmt(o.drain.perSecond, 0), o.drain.failed]),
    ) +
    `\n\nLatency at ${rate} ev/s, ${panelsCount} panels (ten per account) spread over the HTTP processes:\n\n` +
    table(
      ["layout", ...LATENCY_HEADERS],
      out.flatMap((o) => latencyRows([o.latency], o.layout)),
    ) +
    `\n\npanels not equal to the ledger: ${out.map((o) => o.panelsNotEqualToLedger).join(" / ")}`;
  report(
    "nodes",
    "4. One vs two server processes",
    md,
    { n, panels: panelsCount, rate, seconds, layouts: out },
    opts.quick,
  );
  return out;
}
