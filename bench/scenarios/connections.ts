import { waitFor } from "../../test/support/redis-server.js";
import { metricSum, rssBytes, scrape, deploy, seedAccounts } from "../support/deploy.js";
import { closePanels, openPanels, type Panel } from "../support/panels.js";
import { report, table } from "../support/report.js";
import { fmt } from "../support/stats.js";
import type { ScenarioOptions } from "./options.js";

interface Step {
  sockets: number;
  rssMB: number | null;
  heapUsedMB: number;
  loopLagP99Ms: number;
  rssKBPerSocket: number | null;
  heapKBPerSocket: number;
}

async function settle(): Promise<void> {
  await new Promise((r) => setTimeout(r, 2000));
}

/** Scenario 3: server memory and event-loop delay with idle panel sockets (each watching a session). */
export async function connections(opts: ScenarioOptions): Promise<unknown> {
  const steps = opts.quick ? [1000] : [1000, 5000, 10_000];
  const dep = await deploy();
  let panels: Panel[] = [];
  try {
    const accounts = await seedAccounts(dep, 1000);
    const node = await dep.start("all");
    const url = node.url ?? "";
    const pid = node.server.proc.pid;
    await settle();
    await scrape(url); // resets prom-client's event-loop histogram
    await settle();
    const base = await scrape(url);
    const baseRss = rssBytes(pid);
    const baseHeap = metricSum(base, "nodejs_heap_size_used_bytes");
    const rows: Step[] = [];
    for (const target of steps) {
      // openPanels numbers panels from 0: open the extra ones with an offset into the accounts.
      const more = await openPanels(dep, [url], accounts.slice(panels.length / 10), target - panels.length);
      panels = panels.concat(more);
      await waitFor(async () => metricSum(await scrape(url), "creditmeter_sockets_connected") >= target, 30_000, `${target} sockets counted`);
      await settle();
      await scrape(url);
      await settle();
      const m = await scrape(url);
      const rss = rssBytes(pid);
      const heap = metricSum(m, "nodejs_heap_size_used_bytes");
      rows.push({
        sockets: target,
        rssMB: rss !== null ? rss / 2 ** 20 : null,
        heapUsedMB: heap / 2 ** 20,
        loopLagP99Ms: metricSum(m, "nodejs_eventloop_lag_p99_seconds") * 1000,
        rssKBPerSocket: rss !== null && baseRss !== null ? (rss - baseRss) / 1024 / target : null,
        heapKBPerSocket: (heap - baseHeap) / 1024 / target,
      });
    }
    const md =
      table(
        ["idle sockets", "server RSS MB", "heap used MB", "event-loop p99 ms", "RSS KB/socket", "heap KB/socket"],
        rows.map((r) => [r.sockets, fmt(r.rssMB, 1), fmt(r.heapUsedMB, 1), fmt(r.loopLagP99Ms), fmt(r.rssKBPerSocket, 1), fmt(r.heapKBPerSocket, 1)]),
      ) + `\n\nbaseline (no sockets): RSS ${fmt(baseRss !== null ? baseRss / 2 ** 20 : null, 1)} MB, heap ${fmt(baseHeap / 2 ** 20, 1)} MB; target ≤ 20 KB per idle socket`;
    const data = { baseline: { rssBytes: baseRss, heapUsedBytes: baseHeap }, steps: rows };
    report("connections", "3. Idle panel sockets: memory and event-loop delay", md, data, opts.quick);
    return data;
  } finally {
    closePanels(panels);
    await dep.close();
  }
}
