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
