import type { RedisClientType, RedisClusterType } from "redis";
import type { OpsAlert } from "@creditmeter/shared";
import type { Publisher } from "../ledger/api.js";
import type { LedgerOutcome } from "../ledger/outcome.js";
import { AGGREGATE_TTL_SECONDS, type OpsKeys } from "./ops-keys.js";
import { SpendBatch } from "./spend-batch.js";
import { idOf } from "./job-log.js";

/** What the recorder reports about itself (Prometheus counters in practice). */
export interface RecorderSignals {
  flushFailed(err: Error): void;
  alertsDropped(n: number): void;
}

export interface SpendRecorderOptions {
  redis: RedisClientType | RedisClusterType;
  keys: OpsKeys;
  flushMs: number;
  /** Charges kept per flush for the live feed (the emitter's batch size). */
  keepCharges: number;
  signals: RecorderSignals;
  now?: () => number;
}

/** A Publisher that records outcomes for /ops, and takes rejected events too. */
export interface SpendRecorder extends Publisher {
  /** Records a rejected event (invalid_event, unknown_account) as an ops alert. */
  rejected(reason: string, data: unknown): void;
  /** Writes what is pending now (tests, shutdown). */
  flush(): Promise<void>;
  /** Stops the timer after a last flush. */
  close(): Promise<void>;
}

// The charges list only feeds the live view: it is capped so that no emitter means no growth.
const FEED_LIST_MAX = 5000;
const FEED_LIST_TTL_MS = 60_000;

function alertsOf(outcome: LedgerOutcome): OpsAlert[] {
  const out: OpsAlert[] = [];
  const { alert, denied } = outcome;
  if (alert) {
    out.push({
      kind: "low_balance",
      accountId: alert.accountId,
      sessionId: null,
      message: `${alert.level}: ${alert.available} credits available (threshold ${alert.threshold})`,
      at: alert.at,
    });
  }
  if (denied) {
    out.push({
      kind: "denied",
      accountId: denied.accountId,
      sessionId: denied.sessionId,
      // A budget denial is the person's own limit, not a shortage: ops should not read it as one.
      message:
        denied.reason === "session_budget"
          ? `${denied.action} denied by the session's budget: needs ${denied.required}`
          : `${denied.action} denied: needs ${denied.required}, ${denied.available} available`,
      at: denied.at,
    });
  }
  return out;
}

/**
 * Sums every applied charge of this process into per-second buckets in Redis, off the hot path:
 * `publish` only adds to a local batch and a timer writes it as one MULTI every `flushMs`. Every
 * node does the same, so the buckets hold the whole deployment's spend (docs/ops.md, "Exactness").
 */
export function createSpendRecorder(opts: SpendRecorderOptions): SpendRecorder {
  const { redis, keys } = opts;
  const now = opts.now ?? Date.now;
  let batch = new SpendBatch(opts.keepCharges);
  let inFlight: Promise<void> = Promise.resolve();

  async function write(b: SpendBatch): Promise<void> {
    const d = b.delta;
    const multi = redis.multi();
    for (const [second, fields] of d.seconds) {
      const key = keys.second(second);
      for (const [f, by] of fields) multi.hIncrBy(key, f, by);
      multi.expire(key, AGGREGATE_TTL_SECONDS);
    }
    for (const [bucket, members] of d.sessions) {
      const key = keys.sessions(bucket);
      for (const [m, by] of members) multi.zIncrBy(key, by, m);
      multi.expire(key, AGGREGATE_TTL_SECONDS);
    }
    for (const [bucket, members] of d.accounts) {
      const key = keys.accounts(bucket);
      for (const [m, by] of members) multi.zIncrBy(key, by, m);
      multi.expire(key, AGGREGATE_TTL_SECONDS);
    }
    if (d.active.size > 0) {
      multi.zAdd(
        keys.active,
        [...d.active].map(([value, score]) => ({ value, score })),
        { comparison: "GT" },
      );
      multi.expire(keys.active, AGGREGATE_TTL_SECONDS);
    }
    if (d.newest !== null) multi.zAdd(keys.newest, { value: "t", score: d.newest }, { comparison: "GT" });
    const feed = b.feed();
    if (feed.length > 0) {
      multi.rPush(
        keys.charges,
        feed.map((c) => JSON.stringify(c)),
      );
      multi.lTrim(keys.charges, -FEED_LIST_MAX, -1);
      multi.pExpire(keys.charges, FEED_LIST_TTL_MS);
    }
    if (d.alerts.length > 0) {
      multi.rPush(
        keys.alerts,
        d.alerts.map((a) => JSON.stringify(a)),
      );
      multi.lTrim(keys.alerts, -FEED_LIST_MAX, -1);
      multi.pExpire(keys.alerts, FEED_LIST_TTL_MS);
    }
    await multi.exec();
  }

  function flush(): Promise<void> {
    const b = batch;
    if (b.empty) return inFlight;
    batch = new SpendBatch(opts.keepCharges);
    if (b.droppedAlerts > 0) opts.signals.alertsDropped(b.droppedAlerts);
    // One flush at a time, in order: a slow Redis delays figures, it never reorders them.
    inFlight = inFlight.then(() =>
      // Not retried: a MULTI whose reply was lost may have been applied, and counting it twice
      // would be worse than the documented shortfall (docs/ops.md).
      write(b).catch((err: unknown) => opts.signals.flushFailed(err instanceof Error ? err : new Error(String(err)))),
    );
    return inFlight;
  }

  const timer = setInterval(() => void flush(), opts.flushMs);
  timer.unref();

  return {
    publish(outcome) {
      if (outcome.charge) batch.charge(outcome.charge);
      if (outcome.progress)
        batch.touch(outcome.progress.accountId, outcome.progress.sessionId, Date.parse(outcome.progress.at));
      if (outcome.occurredAtMs !== null && outcome.result?.status === "applied") batch.applied(outcome.occurredAtMs);
      for (const alert of alertsOf(outcome)) batch.alert(alert);
    },
    rejected(reason, data) {
      const eventId = idOf(data, "eventId");
      batch.alert({
        kind: "rejected",
        accountId: idOf(data, "accountId"),
        sessionId: idOf(data, "sessionId"),
        message: `${eventId ?? "(no eventId)"}: ${reason.slice(0, 300)}`,
        at: new Date(now()).toISOString(),
      });
    },
    flush,
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}
