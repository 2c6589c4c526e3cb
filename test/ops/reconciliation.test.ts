import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_PRICE_BOOK, quoteCharge, type StageEvent } from "@creditmeter/shared";
import { completed, cycleOf, deployment, startNode, type Deployment } from "../realtime/harness.js";
import { waitFor } from "../support/redis-server.js";
import { STEP_SPECS, prng } from "../support/workload.js";
import { maxPerWindow, watchOps, type OpsWatcher } from "./ops-client.js";

const CAP = 4;
const CHARGES = 3000;
const JITTER_MS = 250;
const SPECS = STEP_SPECS.filter((spec) => spec.action !== "creative_brief" && spec.action !== "brand_style");

// Two nodes share one Redis and one queue: each applies part of the charges and writes its own
// share of the /ops aggregates; the figures one emitter streams must equal the ledger's sums.
describe("ops figures reconcile with the ledger across two nodes", () => {
  let d: Deployment;
  let nodes: Awaited<ReturnType<typeof startNode>>[];
  let watchers: OpsWatcher[];

  beforeAll(async () => {
    d = await deployment({ CREDITMETER_OPS_BATCHES_PER_SECOND: String(CAP), CREDITMETER_OPS_BATCH_MAX: "100", CREDITMETER_CONCURRENCY: "25" });
    nodes = [await startNode(d), await startNode(d)];
    const token = await d.token("ops-watch", "ops");
    watchers = nodes.map((n) => watchOps(n.url, token));
    await Promise.all(watchers.map((w) => w.connected));
  });
  afterAll(async () => {
    for (const w of watchers ?? []) w.close();
    for (const n of nodes ?? []) await n.close();
    await d?.close();
  });

  it(`${CHARGES} charges through the real queue: spend per minute and per action equal the ledger; ops:charges stays under ${CAP}/s`, async () => {
    const started = Date.now();
    const accounts = Array.from({ length: 8 }, (_, i) => `rec-${i}`);
    for (const a of accounts) {
      await nodes[0]?.ledger.putAccount(a, { plan: "free" });
      await nodes[0]?.ledger.startCycle(a, cycleOf(`c-${a}`, 10_000_000));
    }
    const rand = prng(5);
    const events: StageEvent[] = [];
    let expected = 0;
    for (let i = 0; i < CHARGES; i++) {
      const spec = SPECS[Math.floor(rand() * SPECS.length)] ?? { action: "script" };
      const accountId = accounts[i % accounts.length] ?? "rec-0";
      const e = completed(accountId, `s-${Math.floor(rand() * 6)}`, spec.action, { ...spec });
      events.push(e);
      const q = quoteCharge(DEFAULT_PRICE_BOOK, e, "free");
      expected += q.ok ? q.credits : 0;
    }
    for (let i = 0; i < events.length; i += 500) await d.enqueue(events.slice(i, i + 500));
    await waitFor(async () => Object.values(await d.queue.getJobCounts("waiting", "active", "delayed")).every((n) => n === 0), 90_000, "the queue to drain");
    expect(await d.queue.getJobCounts("failed")).toEqual({ failed: 0 });

    // The ledger's own sums over the window, by action, across every account.
    const window = { from: new Date(started - 1000).toISOString(), to: new Date(Date.now() + 60_000).toISOString() };
    const ledgerByAction: Record<string, number> = {};
    let ledgerTotal = 0;
    for (const a of accounts) {
      const usage = await nodes[0]?.ledger.usage(a, { ...window, groupBy: "action" });
      for (const g of usage?.groups ?? []) ledgerByAction[g.key] = (ledgerByAction[g.key] ?? 0) + g.credits;
      ledgerTotal += usage?.total ?? 0;
    }
    expect(ledgerTotal).toBe(expected);
    const byModel: Record<string, number> = {};
    for (const a of accounts) {
      const usage = await nodes[0]?.ledger.usage(a, { ...window, groupBy: "model" });
      for (const g of usage?.groups ?? []) byModel[g.key] = (byModel[g.key] ?? 0) + g.credits;
    }

    // Both nodes applied a share: the aggregates are the deployment's, not one node's.
    const perNode = await Promise.all(nodes.map(async (n) => n.metrics.events.get()));
    for (const m of perNode) expect(m.values.reduce((s, v) => s + v.value, 0)).toBeGreaterThan(0);

    const [w0, w1] = watchers;
    if (!w0 || !w1) throw new Error("watchers missing");
    await waitFor(async () => (w0.stats.at(-1)?.spendPerMinute ?? -1) === ledgerTotal, 15_000, "ops:stats to reach the ledger total");
    const last = w0.stats.at(-1);
    expect(Date.now() - started, "the run must fit in the one-minute window spendPerMinute covers").toBeLessThan(55_000);
    expect(last?.spendPerMinute).toBe(ledgerTotal);
    expect(Object.fromEntries(Object.entries(last?.byAction ?? {}).filter(([, v]) => v > 0))).toEqual(
      Object.fromEntries(Object.entries(ledgerByAction).filter(([, v]) => v > 0)),
    );
    expect(Object.fromEntries(Object.entries(last?.byModel ?? {}).filter(([, v]) => v > 0))).toEqual(
      Object.fromEntries(Object.entries(byModel).filter(([, v]) => v > 0)),
    );
    expect(last?.topAccounts.reduce((s, a) => s + a.credits, 0)).toBe(ledgerTotal);
    expect(last?.activeSessions).toBe(accounts.length * 6);
    expect(last?.queue).toMatchObject({ waiting: 0, active: 0, failed: 0, lagMs: 0 });

    // The live feed: one emitter (both nodes' ops sockets see the same batches), never over the cap.
    await waitFor(async () => w0.batches.length > 0 && w0.batches.length === w1.batches.length, 5000, "both watchers to hold the same batches");
    for (const w of watchers) {
      // Arrival times carry delivery jitter (a loaded event loop delivers a late batch next to an
      // on-time one). The server spaces any CAP+1 batches ≥ 1000 ms apart (rate-window.test.ts);
      // with jitter under JITTER_MS they still arrive ≥ 1000 − JITTER_MS apart, so no window of
      // that width may hold more than CAP — a broken cap still fails here.
      expect(maxPerWindow(w.batches.map((b) => b.at), 1000 - JITTER_MS)).toBeLessThanOrEqual(CAP);
      for (const b of w.batches) expect(b.charges.length).toBeLessThanOrEqual(100);
    }
    const streamed = w0.batches.flatMap((b) => b.charges);
    expect(streamed.length).toBeGreaterThan(0);
    // 3000 charges in a few seconds is more than 100 per batch at 4 a second: the feed was throttled.
    expect(streamed.length).toBeLessThan(CHARGES);
    const spanSeconds = ((w0.batches.at(-1)?.at ?? 0) - (w0.batches[0]?.at ?? 0)) / 1000;
    expect(w0.batches.length).toBeLessThanOrEqual(Math.ceil(spanSeconds) * CAP + CAP);
  });
});
