import type { Job, Worker } from "bullmq";
import type { EventResult } from "@creditmeter/shared";
import type { AppRedis } from "../redis/redis-client.js";

/**
 * Failed jobs, counted for good. The queue keeps only the newest CREDITMETER_FAILED_JOBS_KEPT failed
 * jobs; older ones are trimmed by BullMQ. So that none disappears unseen, every job that fails for
 * good (not an attempt that will be retried) is counted by reason in a Redis hash, which survives
 * restarts and is shared by every process: /metrics serves it as creditmeter_failed_jobs_total{reason}.
 * Trimmed = that total minus creditmeter_queue_jobs{state="failed"} (less any discarded by ops).
 */
export function failedJobsKey(keyPrefix: string): string {
  return `${keyPrefix}:failed-jobs-total`;
}

const CODES = ["invalid_event", "unknown_account", "conflict"];

/** The counter's label for a failed reason: its contract code, or `retries_exhausted` for a transient error out of attempts. */
export function failureCode(reason: string): string {
  return CODES.find((code) => reason.startsWith(code)) ?? "retries_exhausted";
}

/** Counts every job `worker` fails for good in `failedJobsKey(keyPrefix)`. */
export function countFailedJobs(worker: Worker<unknown, EventResult>, redis: AppRedis, keyPrefix: string, onError: (err: Error) => void): void {
  worker.on("failed", (job: Job | undefined, err: Error) => {
    // finishedOn is set only when the job moved to failed; an attempt that will be retried has none.
    if (!job || job.finishedOn === undefined) return;
    redis.hIncrBy(failedJobsKey(keyPrefix), failureCode(job.failedReason || err.message), 1).catch(onError);
  });
}

/** The persisted counts by reason. */
export async function readFailedJobCounts(redis: AppRedis, keyPrefix: string): Promise<Record<string, number>> {
  const raw = await redis.hGetAll(failedJobsKey(keyPrefix));
  return Object.fromEntries(Object.entries(raw).map(([reason, n]) => [reason, Number(n)]));
}
