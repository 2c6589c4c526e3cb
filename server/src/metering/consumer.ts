import { Worker, type Job } from "bullmq";
import { bullmqConnection } from "./bullmq-connection.js";
import type { AppRedis } from "../redis/redis-client.js";
import type { EventResult } from "@creditmeter/shared";
import { processEvent, type ProcessDeps } from "./process-event.js";
import { EventBatcher, type BatchLedger } from "./event-batcher.js";

export interface ConsumerOptions extends Omit<ProcessDeps, "ledger"> {
  ledger: BatchLedger;
  /** Most events applied in one ledger script call (1: one call per event). */
  ledgerBatchMax?: number;
  /** A node-redis client BullMQ duplicates for its own connections. */
  redis: AppRedis;
  queueName: string;
  queuePrefix: string;
  concurrency: number;
  failedJobsKept: number;
  /** Lock duration in ms (default 30 s): how soon a crashed consumer's jobs are recovered. */
  jobLockMs?: number;
  /** Redis connection errors of the worker's own connections (they reconnect by themselves). */
  onConnectionError?: (err: Error) => void;
  /** False: the caller runs the worker (`worker.run()`) once its connections are ready. Default true. */
  autorun?: boolean;
  /** Told +1 when a job starts processing and -1 when it ends (a stop names the jobs it left). */
  onJobsInFlight?: (delta: 1 | -1) => void;
}

/**
 * The BullMQ metering worker. Jobs in flight together reach the ledger as one batch (EventBatcher).
 * Completed jobs are removed (the ledger keeps the record); failed
 * ones are kept, bounded, for ops to inspect, retry or discard.
 */
export function createConsumer(opts: ConsumerOptions): Worker<unknown, EventResult> {
  const batchMax = opts.ledgerBatchMax ?? 64;
  // Up to 8 calls in flight: enough to keep Redis and this process overlapping, few enough that
  // jobs arriving meanwhile gather into batches. With small batches, as many as the jobs need.
  const batcher = new EventBatcher(opts.ledger, { maxBatch: batchMax, maxInFlight: Math.max(8, Math.ceil(opts.concurrency / batchMax)) });
  const deps: ProcessDeps = { ...opts, ledger: batcher };
  const track = opts.onJobsInFlight;
  const processor = track
    ? async (job: Job<unknown, EventResult>) => {
        track(1);
        try {
          return await processEvent(job.data, deps);
        } finally {
          track(-1);
        }
      }
    : (job: Job<unknown, EventResult>) => processEvent(job.data, deps);
  return new Worker<unknown, EventResult>(opts.queueName, processor, {
    autorun: opts.autorun ?? true,
    connection: bullmqConnection(opts.redis, (err) => opts.onConnectionError?.(err)),
    prefix: opts.queuePrefix,
    concurrency: opts.concurrency,
    removeOnComplete: { count: 0 },
    removeOnFail: { count: opts.failedJobsKept },
    lockDuration: opts.jobLockMs ?? 30_000,
    stalledInterval: Math.max(250, Math.floor((opts.jobLockMs ?? 30_000) / 2)),
    // Applying an event twice is a no-op (the eventId), so a job that stalls again after
    // another crash is safe to recover; failing it would lose a charge.
    maxStalledCount: 100,
  });
}
