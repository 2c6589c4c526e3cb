import { writeFileSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";
import type { StageEvent } from "@creditmeter/shared";
import { metricSum, scrape, type Deployment } from "./deploy.js";
import type { Panel, UpdateSeen } from "./panels.js";
import { summarize, type Summary } from "./stats.js";
import { commandStats, perJob } from "./command-stats.js";

/** What one fixed-rate step measured. */
export interface RateResult {
  offered: number;
  achieved: number;
  sent: number;
  delivered: number;
  lost: number;
  latencyMs: Summary;
  /** Means from the servers' own histograms: queue (add→ledger start, with parse), ledger, push (emit→panel). */
  splitMs: { queue: number | null; ledger: number | null; delivery: number | null };
  benchLoopDelayP99Ms: number;
  benchLoopDelayMaxMs: number;
  /** The worst event-loop delay p99 and max among the servers during the step (prom-client, reset per scrape). */
  serverLoopDelayP99Ms: number | null;
  serverLoopDelayMaxMs: number | null;
  /** `balance:update` pushes each panel received per second of the step, until its last update (the account room's fan-out rate). */
  balancePushesPerPanelS: number;
  /** `balance:update` socket writes per charge (pushes received by all panels / events sent). */
  balanceWritesPerEvent: number;
  /** CPU per event over the step: the servers' (prom-client process_cpu_seconds_total) and the bench's (its panels and publisher). */
  serverCpuMsPerEvent: number | null;
  benchCpuMsPerEvent: number;
  /**
   * The servers' garbage collection over the step (prom-client `nodejs_gc_duration_seconds`): ms of
   * GC per second of the step and how many collections took 10 ms or more (each one a stall every
   * event in flight waits out).
   */
  serverGc: { msPerS: number; count: number; over10ms: number } | null;
  /** The step's window on the monotonic clock (µs, as V8 CPU profiles time their samples): cuts a profile to this step. */
  monoUs: { from: number; to: number };
  /** Redis commands per event over the step (every client's, the bench's `queue.add` too), most frequent first. */
  redisCallsPerEvent: { command: string; callsPerJob: number; usecPerJob: number }[];
}

interface Sent {
  eventId: string;
  at: number;
}

/**
 * Tracks publish→panel latency. An update names the last event it carries; it also carries every
 * earlier event of that session still pending (a coalesced update merges them), so those are
 * delivered at the same moment.
 */
export class LatencyTracker {
  private readonly pending = new Map<string, Sent[]>();
  samples: number[] = [];
  /** [sent at, latency] of each sample, in ms (BENCH_TIMELINE). */
  timeline: [number, number][] = [];

  sent(accountId: string, sessionId: string, eventId: string, at: number): void {
    const key = `${accountId}/${sessionId}`;
    const list = this.pending.get(key) ?? [];
    list.push({ eventId, at });
    this.pending.set(key, list);
  }

  seen(panel: Panel, update: UpdateSeen): void {
    const now = performance.now();
    const list = this.pending.get(`${panel.accountId}/${update.sessionId}`);
    if (!list || !update.last) return;
    const i = list.findIndex((s) => s.eventId === update.last?.eventId);
    if (i < 0) return;
    for (const s of list.splice(0, i + 1)) {
      this.samples.push(now - s.at);
      this.timeline.push([s.at, now - s.at]);
    }
  }

  outstanding(): number {
    let n = 0;
    for (const list of this.pending.values()) n += list.length;
    return n;
  }
}

async function serverMeans(urls: string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const url of urls) {
    const m = await scrape(url);
    out.set("loop_p99", Math.max(out.get("loop_p99") ?? 0, metricSum(m, "nodejs_eventloop_lag_p99_seconds")));
    out.set("loop_max", Math.max(out.get("loop_max") ?? 0, metricSum(m, "nodejs_eventloop_lag_max_seconds")));
    out.set("cpu", (out.get("cpu") ?? 0) + metricSum(m, "process_cpu_seconds_total"));
    out.set("gc_sum", (out.get("gc_sum") ?? 0) + metricSum(m, "nodejs_gc_duration_seconds_sum"));
    out.set("gc_count", (out.get("gc_count") ?? 0) + metricSum(m, "nodejs_gc_duration_seconds_count"));
    // Cumulative bucket: collections that took at most 10 ms, of every kind.
    let short = 0;
    for (const [key, value] of m)
      if (key.startsWith("nodejs_gc_duration_seconds_bucket{") && key.includes('le="0.01"')) short += value;
    out.set("gc_short", (out.get("gc_short") ?? 0) + short);
    for (const name of ["creditmeter_ledger_operation_seconds", "creditmeter_event_to_push_seconds"]) {
      out.set(`${name}_sum`, (out.get(`${name}_sum`) ?? 0) + metricSum(m, `${name}_sum`));
      out.set(`${name}_count`, (out.get(`${name}_count`) ?? 0) + metricSum(m, `${name}_count`));
    }
  }
  return out;
}

function meanMs(before: Map<string, number>, after: Map<string, number>, name: string): number | null {
  const n = (after.get(`${name}_count`) ?? 0) - (before.get(`${name}_count`) ?? 0);
  const s = (after.get(`${name}_sum`) ?? 0) - (before.get(`${name}_sum`) ?? 0);
  return n > 0 ? (s / n) * 1000 : null;
}

function balancePushes(panels: Panel[]): number {
  let n = 0;
  for (const p of panels) n += p.balance.pushes;
  return n;
}

/**
 * Offers `rate` stage.completed events per second for `seconds` to sessions the panels watch
 * (one `queue.add()` each, timed from just before the call), then waits for every update.
 */
export async function offer(
  dep: Deployment,
  panels: Panel[],
  tracker: LatencyTracker,
  metricUrls: string[],
  rate: number,
  seconds: number,
  tag: string,
): Promise<RateResult> {
  tracker.samples = [];
  const before = await serverMeans(metricUrls);
  const statsBefore = await commandStats(dep.client);
  const pushesBefore = balancePushes(panels);
  const cpuBefore = process.cpuUsage();
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const monoFrom = Number(process.hrtime.bigint() / 1000n);
  const total = Math.round(rate * seconds);
  const started = performance.now();
  const adds: Promise<unknown>[] = [];
  let sent = 0;
  let failures = 0;
  while (sent < total && performance.now() - started < seconds * 1000 * 3) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
    for (; sent < due; sent++) {
      const panel = panels[(sent * 7919) % panels.length];
      if (!panel) break;
      const eventId = `${tag}-${sent}`;
      const event: StageEvent = {
        v: 1,
        eventId,
        type: "stage.completed",
        accountId: panel.accountId,
        sessionId: panel.sessionId,
        stepId: eventId,
        action: "script",
        occurredAt: new Date().toISOString(),
      };
      const at = performance.now();
      tracker.sent(panel.accountId, panel.sessionId, eventId, at);
      adds.push(dep.queue.add(event.type, event, { jobId: eventId }).catch(() => (failures += 1)));
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  const offeredSeconds = (performance.now() - started) / 1000;
  await Promise.all(adds);
  const deadline = Date.now() + Math.max(5_000, seconds * 1000);
  while (tracker.outstanding() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  loop.disable();
  const monoTo = Number(process.hrtime.bigint() / 1000n);
  const pushes = balancePushes(panels) - pushesBefore;
  const cpu = process.cpuUsage(cpuBefore);
  // Over the whole step, until the last update landed: a step that lags spreads its pushes wider.
  const stepSeconds = (performance.now() - started) / 1000;
  const after = await serverMeans(metricUrls);
  const redisCalls = perJob(statsBefore, await commandStats(dep.client), Math.max(1, sent)).sort(
    (a, b) => b.callsPerJob - a.callsPerJob,
  );
  const latencyMs = summarize(tracker.samples);
  // `BENCH_TIMELINE=<path prefix>`: each step's [sent at, latency] pairs (ms), to see whether a tail is stalls or queueing.
  if (process.env.BENCH_TIMELINE)
    writeFileSync(`${process.env.BENCH_TIMELINE}-${tag}.json`, JSON.stringify(tracker.timeline));
  tracker.timeline = [];
  const ledger = meanMs(before, after, "creditmeter_ledger_operation_seconds");
  const toEmit = meanMs(before, after, "creditmeter_event_to_push_seconds");
  return {
    offered: rate,
    achieved: sent / offeredSeconds,
    sent: sent - failures,
    delivered: latencyMs.n,
    lost: tracker.outstanding(),
    latencyMs,
    splitMs: {
      queue: toEmit !== null && ledger !== null ? Math.max(0, toEmit - ledger) : null,
      ledger,
      delivery: toEmit !== null && latencyMs.mean !== null ? Math.max(0, latencyMs.mean - toEmit) : null,
    },
    benchLoopDelayP99Ms: loop.percentile(99) / 1e6,
    benchLoopDelayMaxMs: loop.max / 1e6,
    serverLoopDelayP99Ms: after.has("loop_p99") ? (after.get("loop_p99") ?? 0) * 1000 : null,
    serverLoopDelayMaxMs: after.has("loop_max") ? (after.get("loop_max") ?? 0) * 1000 : null,
    balancePushesPerPanelS: panels.length > 0 ? pushes / panels.length / stepSeconds : 0,
    balanceWritesPerEvent: sent > 0 ? pushes / sent : 0,
    serverCpuMsPerEvent:
      after.has("cpu") && sent > 0 ? (((after.get("cpu") ?? 0) - (before.get("cpu") ?? 0)) * 1000) / sent : null,
    benchCpuMsPerEvent: sent > 0 ? (cpu.user + cpu.system) / 1000 / sent : 0,
    serverGc: after.has("gc_count") ? gcOver(before, after, stepSeconds) : null,
    monoUs: { from: monoFrom, to: monoTo },
    redisCallsPerEvent: redisCalls,
  };
}

/**
 * Charges every panel's session once before a measured step (not measured itself): a session's
 * first charge costs the ledger more than the next ones, and a step that opened on 2,000 fresh
 * sessions measured that burst in its first two seconds, not the steady state (docs/performance.md,
 * "10 per account (ninth session)"). `offer` walks the panels with a prime stride, so
 * `panels.length` events reach each panel exactly once.
 */
export async function warmEveryPanel(
  dep: Deployment,
  panels: Panel[],
  tracker: LatencyTracker,
  metricUrls: string[],
  tag: string,
  rate = 500,
): Promise<void> {
  await offer(dep, panels, tracker, metricUrls, rate, panels.length / rate, tag);
}

function gcOver(before: Map<string, number>, after: Map<string, number>, seconds: number): RateResult["serverGc"] {
  const delta = (k: string): number => (after.get(k) ?? 0) - (before.get(k) ?? 0);
  const count = delta("gc_count");
  return { msPerS: seconds > 0 ? (delta("gc_sum") * 1000) / seconds : 0, count, over10ms: count - delta("gc_short") };
}

/** Panels whose last number differs from the ledger's (should be none once everything is delivered). */
export async function mismatches(dep: Deployment, panels: Panel[]): Promise<number> {
  let bad = 0;
  for (let i = 0; i < panels.length; i += 200) {
    const slice = panels.slice(i, i + 200);
    const truth = await Promise.all(slice.map((p) => dep.ledger.session(p.accountId, p.sessionId)));
    slice.forEach((p, j) => {
      if (truth[j]?.used !== p.used) bad += 1;
    });
  }
  return bad;
}

/**
 * Panels whose balance differs from the ledger's, or that were ever pushed an older balance after
 * a newer one. A burst's last balance may still be in its account room's rate window: it is given
 * 2 s to land.
 */
export async function balanceMismatches(dep: Deployment, panels: Panel[]): Promise<number> {
  const truth = new Map<string, number>();
  for (const id of new Set(panels.map((p) => p.accountId))) truth.set(id, (await dep.ledger.balance(id)).available);
  const wrong = (): number =>
    panels.filter((p) => p.balance.backwards > 0 || truth.get(p.accountId) !== p.balance.available).length;
  const deadline = Date.now() + 2000;
  while (wrong() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return wrong();
}
