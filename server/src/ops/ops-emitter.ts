import type { RedisClientType, RedisClusterType } from "redis";
import type { OpsAlert, OpsCharge, OpsServerToClientEvents, OpsStats } from "@creditmeter/shared";
import type { OpsKeys } from "./ops-keys.js";
import { leaderLease } from "./leader-lease.js";
import { RateWindow } from "./rate-window.js";
import { readOpsStats, type QueueCounts } from "./stats-reader.js";

/** Where the emitter sends: the /ops namespace (adapter-backed, so every node's ops sockets get it). */
export interface OpsTarget {
  emit<E extends keyof OpsServerToClientEvents>(event: E, ...args: Parameters<OpsServerToClientEvents[E]>): boolean;
}

/** What the emitter reports about itself (Prometheus in practice). */
export interface EmitterSignals {
  batch(size: number, dropped: number): void;
  stats(stats: OpsStats): void;
  leader(isLeader: boolean): void;
  error(err: Error): void;
}

export interface OpsEmitterOptions {
  redis: RedisClientType | RedisClusterType;
  keys: OpsKeys;
  queue: QueueCounts;
  target: OpsTarget;
  nodeId: string;
  batchesPerSecond: number;
  maxBatch: number;
  statsIntervalMs: number;
  signals: EmitterSignals;
}

/** A running emitter. */
export interface OpsEmitter {
  /** True while this node holds the lease and emits. */
  isLeader(): boolean;
  close(): Promise<void>;
}

// The cap is enforced over a slightly longer window than a second, so that a batch delayed on
// the way can never make a client see one more than the cap within a second.
const CAP_WINDOW_MS = 1100;
const ALERTS_PER_TICK = 20;

function parseAll<T>(items: string[]): T[] {
  const out: T[] = [];
  for (const item of items) {
    try {
      out.push(JSON.parse(item) as T);
    } catch {
      // Written by this module only; a damaged entry is skipped rather than stopping the feed.
    }
  }
  return out;
}

/**
 * The one /ops emitter of a deployment: every node runs one, a Redis lease picks which emits.
 * The leader reads the Redis aggregates into `ops:stats` every `statsIntervalMs`, and drains the
 * charge and alert lists into `ops:charges` batches at most `batchesPerSecond` times a second.
 */
export function startOpsEmitter(opts: OpsEmitterOptions): OpsEmitter {
  const { redis, keys, signals } = opts;
  const lease = leaderLease(redis, keys.leader, opts.nodeId, Math.max(2000, opts.statsIntervalMs * 3));
  const cap = new RateWindow(opts.batchesPerSecond, CAP_WINDOW_MS);
  let leader = false;
  let closed = false;
  let statsBusy = false;
  let drainBusy = false;

  const fail = (err: unknown): void => signals.error(err instanceof Error ? err : new Error(String(err)));

  async function statsTick(): Promise<void> {
    if (statsBusy || closed) return;
    statsBusy = true;
    try {
      const was = leader;
      leader = await lease.claim();
      if (leader !== was) signals.leader(leader);
      if (!leader) return;
      const stats = await readOpsStats({ redis, keys, queue: opts.queue, nodeId: opts.nodeId });
      if (closed) return;
      opts.target.emit("ops:stats", stats);
      signals.stats(stats);
    } catch (err) {
      leader = false;
      fail(err);
    } finally {
      statsBusy = false;
    }
  }

  async function drainTick(): Promise<void> {
    if (drainBusy || closed || !leader) return;
    drainBusy = true;
    try {
      const [length, charges, alerts] = await redis
        .multi()
        .lLen(keys.charges)
        .lRange(keys.charges, -opts.maxBatch, -1)
        .del(keys.charges)
        .lRange(keys.alerts, 0, ALERTS_PER_TICK - 1)
        .lTrim(keys.alerts, ALERTS_PER_TICK, -1)
        .exec()
        .then((r) => [Number(r[0] ?? 0), (r[1] ?? []) as string[], (r[3] ?? []) as string[]] as const);
      if (closed) return;
      const batch = parseAll<OpsCharge>(charges);
      // The clock is read right before the emit, after the Redis round trip, so the cap holds at the wire.
      if (batch.length > 0 && cap.tryTake(Date.now())) {
        opts.target.emit("ops:charges", batch);
        signals.batch(batch.length, length - batch.length);
      } else if (batch.length > 0) {
        signals.batch(0, length);
      }
      for (const alert of parseAll<OpsAlert>(alerts)) opts.target.emit("ops:alert", alert);
    } catch (err) {
      fail(err);
    } finally {
      drainBusy = false;
    }
  }

  const statsTimer = setInterval(() => void statsTick(), opts.statsIntervalMs);
  const drainTimer = setInterval(() => void drainTick(), Math.ceil(CAP_WINDOW_MS / opts.batchesPerSecond));
  void statsTick();

  return {
    isLeader: () => leader,
    async close() {
      closed = true;
      clearInterval(statsTimer);
      clearInterval(drainTimer);
      if (leader) await lease.release().catch(fail);
      leader = false;
    },
  };
}
