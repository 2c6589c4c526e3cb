import type { WorkerOptions } from "bullmq";
import type { RedisClientType } from "redis";
import { z } from "zod";
import { bullmqConnection } from "@creditmeter/server";

/**
 * The metering consumer's BullMQ worker settings (server/src/metering/consumer.ts) on a connection
 * of its own, for the bench's stand-ins (the no-op worker, the latency floor): the same queue work.
 */
export function consumerWorkerOptions(redis: RedisClientType, prefix: string, concurrency: number): WorkerOptions {
  return {
    connection: bullmqConnection(redis, () => undefined),
    prefix,
    concurrency,
    removeOnComplete: { count: 0 },
    removeOnFail: { count: 10_000 },
    lockDuration: 30_000,
    stalledInterval: 15_000,
    maxStalledCount: 100,
  };
}

/** The environment the bench hands its stand-in workers (bench/support/noop-process.ts). */
export const WorkerEnv = z.object({
  REDIS_URL: z.url(),
  QUEUE: z.string().min(1),
  QUEUE_PREFIX: z.string().min(1),
  CONCURRENCY: z.coerce.number().int().min(1),
});
