import type { RedisClientType } from "redis";
import { snapshotKeys } from "../support/pipeline.js";

// Keys under the prefix that move by design on any input, good or bad: the per-IP rate
// limiter's counters (`:rl:`), the ops stream's alerts and leader lease (`{ops}`) and the count of
// failed jobs (`:failed-jobs-total`, which rejected input is meant to raise).
const NOT_LEDGER = [":rl:", ":{ops}:", ":failed-jobs-total"];

/** Every ledger key of the deployment with its DUMP, to prove rejected input changed nothing. */
export async function ledgerKeys(redis: RedisClientType, prefix: string): Promise<Map<string, string>> {
  const all = await snapshotKeys(redis, prefix);
  return new Map([...all].filter(([key]) => !NOT_LEDGER.some((part) => key.includes(part))));
}
