import type { Worker } from "bullmq";
import type { Logger } from "pino";
import { STAGE_EVENT_TYPES, type EventResult } from "@creditmeter/shared";
import type { Config } from "../config/config.js";
import type { Publisher } from "../ledger/api.js";
import type { RedisLedger } from "../ledger/redis-ledger.js";
import { createConsumer } from "../metering/consumer.js";
import type { Metrics } from "../ops/metrics.js";
import type { OpsStream } from "../ops/ops-stream.js";
import { idOf, logJobs } from "../ops/job-log.js";
import type { AppRedis } from "../redis/redis-client.js";

export interface ConsumerDeps {
  config: Config;
  redis: AppRedis;
  ledger: RedisLedger;
  publisher: Publisher;
  metrics: Metrics;
  opsStream: OpsStream;
  logger: Logger;
}

/** Starts the metering consumer with its metrics, logs and /ops hooks. */
export function startConsumer({ config, redis, ledger, publisher, metrics, opsStream, logger }: ConsumerDeps): Worker<unknown, EventResult> {
  const consumer = createConsumer({
    redis,
    queueName: config.queueName,
    queuePrefix: config.queuePrefix,
    concurrency: config.concurrency,
    failedJobsKept: config.failedJobsKept,
    jobLockMs: config.jobLockMs,
    ledgerBatchMax: config.ledgerBatchMax,
    onConnectionError: (err) => logger.debug({ err: err.message }, "consumer connection error"),
    ledger,
    publisher,
    priceBook: config.priceBook,
    idempotencyRetentionSeconds: config.idempotencyRetentionSeconds,
    onApplied: (outcome, ms, event) => metrics.applied(event.type, outcome, ms),
    onRejected: (reason, data) => {
      // Only known types become a label: made-up ones must not grow the metric's series.
      const claimed = idOf(data, "type");
      const type = STAGE_EVENT_TYPES.find((t) => t === claimed) ?? "invalid";
      metrics.rejected(type, reason);
      // Logged with its jobId by logJobs ("event failed"); here it becomes an ops:alert.
      opsStream.recorder.rejected(reason, data);
    },
  });
  consumer.on("error", (err) => logger.warn({ err: err.message }, "consumer error"));
  logJobs(consumer, logger);
  return consumer;
}
