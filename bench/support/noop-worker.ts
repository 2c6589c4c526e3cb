// A BullMQ worker that does nothing with its jobs, with the metering consumer's connection and
// worker settings (server/src/metering/consumer.ts): the raw queue's ceiling for scenario 1.
import { Worker } from "bullmq";
import { createClient, type RedisClientType } from "redis";
import { WorkerEnv, consumerWorkerOptions } from "./consumer-worker-options.js";

const env = WorkerEnv.parse(process.env);
const redis: RedisClientType = createClient({ url: env.REDIS_URL });
redis.on("error", () => undefined);
await redis.connect();
const worker = new Worker(
  env.QUEUE,
  async () => ({ status: "noop" }),
  consumerWorkerOptions(redis, env.QUEUE_PREFIX, env.CONCURRENCY),
);
await worker.waitUntilReady();
process.on("SIGTERM", () => {
  void worker
    .close()
    .then(() => redis.close())
    .then(() => process.exit(0));
});
