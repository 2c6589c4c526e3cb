import type { Queue } from "bullmq";
import type { RedisClientType } from "redis";
import { rssBytes } from "./support/deploy.js";

/** One reading, every ~10 s of the soak. */
export interface Sample {
  atSeconds: number;
  /** Resident memory of each server process, MB. */
  serverRssMB: number[];
  /** Redis `used_memory`, MB. */
  redisUsedMB: number;
  /** The part of used_memory held by the accounts' audit streams (kept by the retention policy), MB. */
  auditLogMB: number;
  redisKeys: number;
  /** Jobs waiting or active: stays small when the servers keep up with the offered rate. */
  backlog: number;
  eventsSent: number;
}

const MB = 2 ** 20;

function infoField(info: string, field: string): number {
  return Number(new RegExp(`^${field}:(\\d+)`, "m").exec(info)?.[1] ?? NaN);
}

/** Reads the figures of one sample from the server processes and Redis. */
export async function takeSample(opts: {
  startedAt: number;
  pids: (number | undefined)[];
  client: RedisClientType;
  queue: Queue;
  logKeys: string[];
  eventsSent: number;
}): Promise<Sample> {
  const info = await opts.client.info("memory");
  let auditBytes = 0;
  for (const key of opts.logKeys) auditBytes += (await opts.client.memoryUsage(key, { SAMPLES: 0 })) ?? 0;
  const counts = await opts.queue.getJobCounts("wait", "active", "delayed", "prioritized");
  return {
    atSeconds: Math.round((Date.now() - opts.startedAt) / 1000),
    serverRssMB: opts.pids.map((pid) => round((rssBytes(pid) ?? NaN) / MB)),
    redisUsedMB: round(infoField(info, "used_memory") / MB),
    auditLogMB: round(auditBytes / MB),
    redisKeys: await opts.client.dbSize(),
    backlog: Object.values(counts).reduce((a, b) => a + b, 0),
    eventsSent: opts.eventsSent,
  };
}

/** Two decimals. */
export function round(x: number): number {
  return Math.round(x * 100) / 100;
}

/** Least-squares slope of y over x (per unit of x); 0 with fewer than two points. */
export function slope(points: { x: number; y: number }[]): number {
  if (points.length < 2) return 0;
  const mx = points.reduce((s, p) => s + p.x, 0) / points.length;
  const my = points.reduce((s, p) => s + p.y, 0) / points.length;
  const num = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0);
  const den = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
}

/**
 * The soak's table: each figure as the median of the minute after warm-up and of the last minute
 * (a single sample can land on a garbage-collection dip or peak), the change, the slope per minute
 * after warm-up, and the highest reading of the whole run.
 */
export function summarize(
  samples: Sample[],
  warmupMs: number,
  processes: number,
): { headers: string[]; rows: (string | number)[][] } {
  const after = samples.filter((s) => s.atSeconds * 1000 >= warmupMs);
  const last = samples.at(-1)?.atSeconds ?? 0;
  const first = after.filter((s) => s.atSeconds * 1000 < warmupMs + 60_000);
  const end = after.filter((s) => s.atSeconds > last - 60);
  const row = (name: string, pick: (s: Sample) => number): (string | number)[] => {
    const a = round(median(first.map(pick)));
    const b = round(median(end.map(pick)));
    return [
      name,
      a,
      b,
      round(b - a),
      round(slope(after.map((s) => ({ x: s.atSeconds / 60, y: pick(s) })))),
      round(Math.max(...samples.map(pick))),
    ];
  };
  return {
    headers: [
      `figure`,
      `minute after warm-up (${Math.round(warmupMs / 1000)} s)`,
      `last minute (to ${last} s)`,
      "change",
      "slope per minute after warm-up",
      "highest in the run",
    ],
    rows: [
      ...Array.from({ length: processes }, (_, i) => row(`server ${i + 1} RSS (MB)`, (s) => s.serverRssMB[i] ?? NaN)),
      row("Redis used_memory (MB)", (s) => s.redisUsedMB),
      row("  of which audit log, kept by retention (MB)", (s) => s.auditLogMB),
      row("Redis used_memory without the audit log (MB)", (s) => round(s.redisUsedMB - s.auditLogMB)),
      row("Redis keys", (s) => s.redisKeys),
      row("queue backlog (jobs)", (s) => s.backlog),
    ],
  };
}
