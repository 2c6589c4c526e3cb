import type { RedisClientType, RedisClusterType } from "redis";
import type { OpsStats } from "@creditmeter/shared";
import { TOP_BUCKET_SECONDS, WINDOW_SECONDS, type OpsKeys } from "./ops-keys.js";

/** The queue figures ops:stats carries (BullMQ's Queue satisfies it). */
export interface QueueCounts {
  getJobCounts(...states: ("waiting" | "active" | "failed")[]): Promise<Record<string, number>>;
}

export interface StatsReaderOptions {
  redis: RedisClientType | RedisClusterType;
  keys: OpsKeys;
  queue: QueueCounts;
  /** This node's id, for its scratch key. */
  nodeId: string;
  topN?: number;
}

/** Seconds spendPerMinute covers (the current, partial, second and the 59 before it). */
export const MINUTE_SECONDS = 60;
/** Whole seconds chargesPerSecond averages over (the current partial second is left out). */
export const RATE_SECONDS = 10;

function toInt(value: string | undefined): number {
  const n = Number(value ?? 0);
  return Number.isFinite(n) ? n : 0;
}

/** Sums per-second hashes, newest first (`hashes[age]`, age 0 the current second), into the stats' totals. */
export function sumSeconds(hashes: Record<string, string>[]): Pick<OpsStats, "spendPerMinute" | "chargesPerSecond" | "byAction" | "byModel"> {
  let spendPerMinute = 0;
  let rateCharges = 0;
  const byAction: Record<string, number> = {};
  const byModel: Record<string, number> = {};
  hashes.forEach((hash, age) => {
    if (age < MINUTE_SECONDS) spendPerMinute += toInt(hash.c);
    if (age >= 1 && age <= RATE_SECONDS) rateCharges += toInt(hash.n);
    for (const [f, v] of Object.entries(hash)) {
      if (f.startsWith("a:")) byAction[f.slice(2)] = (byAction[f.slice(2)] ?? 0) + toInt(v);
      else if (f.startsWith("m:")) byModel[f.slice(2)] = (byModel[f.slice(2)] ?? 0) + toInt(v);
    }
  });
  return { spendPerMinute, chargesPerSecond: Math.round((rateCharges / RATE_SECONDS) * 10) / 10, byAction, byModel };
}

/**
 * Reads ops:stats from the Redis aggregates every node writes, so whichever node reads them gets
 * the deployment's figures. About 300 pipelined HGETALLs and two small unions per call: meant
 * for the one emitting node, once a second.
 */
export async function readOpsStats(opts: StatsReaderOptions, nowMs = Date.now()): Promise<OpsStats> {
  const { redis, keys } = opts;
  const topN = opts.topN ?? 10;
  const nowSec = Math.floor(nowMs / 1000);
  const seconds = Array.from({ length: WINDOW_SECONDS }, (_, age) => nowSec - age);
  const lastBucket = Math.floor(nowSec / TOP_BUCKET_SECONDS);
  const older = Array.from({ length: WINDOW_SECONDS / TOP_BUCKET_SECONDS - 1 }, (_, i) => lastBucket - 1 - i);
  // A non-empty tuple: ZUNIONSTORE needs at least one key.
  const sessionKeys: [string, ...string[]] = [keys.sessions(lastBucket), ...older.map((b) => keys.sessions(b))];
  const accountKeys: [string, ...string[]] = [keys.accounts(lastBucket), ...older.map((b) => keys.accounts(b))];
  const scratch = keys.scratch(opts.nodeId);
  const since = nowMs - WINDOW_SECONDS * 1000;

  const [hashes, activeSessions, newest, counts, tops] = await Promise.all([
    Promise.all(seconds.map((s) => redis.hGetAll(keys.second(s)))),
    redis.zCount(keys.active, since, "+inf"),
    redis.zScore(keys.newest, "t"),
    opts.queue.getJobCounts("waiting", "active", "failed"),
    redis
      .multi()
      .zUnionStore(scratch, sessionKeys)
      .zRangeWithScores(scratch, 0, topN - 1, { REV: true })
      .zUnionStore(scratch, accountKeys)
      .zRangeWithScores(scratch, 0, topN - 1, { REV: true })
      .del(scratch)
      .zRemRangeByScore(keys.active, "-inf", since)
      .exec(),
  ]);
  const sessionsTop = (tops[1] ?? []) as { value: string; score: number }[];
  const accountsTop = (tops[3] ?? []) as { value: string; score: number }[];
  const waiting = counts.waiting ?? 0;
  const active = counts.active ?? 0;
  return {
    at: new Date(nowMs).toISOString(),
    ...sumSeconds(hashes),
    activeSessions,
    queue: {
      waiting,
      active,
      failed: counts.failed ?? 0,
      // Nothing queued means caught up; otherwise how old the newest applied event already is.
      lagMs: newest === null ? null : waiting + active === 0 ? 0 : Math.max(0, nowMs - newest),
    },
    topSessions: sessionsTop.map(({ value, score }) => {
      const slash = value.indexOf("/");
      return { accountId: value.slice(0, slash), sessionId: value.slice(slash + 1), credits: score };
    }),
    topAccounts: accountsTop.map(({ value, score }) => ({ accountId: value, credits: score })),
  };
}
