import type { Worker } from "bullmq";
import type { Logger } from "pino";
import { STAGE_EVENT_TYPES, type EventResult, type StageEvent } from "@creditmeter/shared";
import type { Config } from "../config/config.js";
import type { Publisher } from "../ledger/api.js";
import type { RedisLedger } from "../ledger/redis-ledger.js";
import { createConsumer } from "../metering/consumer.js";
import { runWhenReady, type RunningConsumer } from "./run-when-ready.js";
import type { ProcessDeps } from "../metering/process-event.js";
import type { Metrics } from "../ops/metrics.js";
import type { OpsStream } from "../ops/ops-stream.js";
import { idOf, logJobs } from "../ops/job-log.js";
import { countFailedJobs } from "../ops/failed-job-count.js";
import type { AppRedis } from "../redis/redis-client.js";

export interface ConsumerDeps {
  config: Config;
  redis: AppRedis;
  ledger: RedisLedger;
  publisher: Publisher;
  /** Queues the webhooks of each event's outcome before its job completes. */
  outbox: ProcessDeps["outbox"];
  metrics: Metrics;
  opsStream: OpsStream;
  logger: Logger;
  /** Told +1 / -1 as jobs start and end processing. */
  onJobsInFlight?: (delta: 1 | -1) => void;
}

/**
 * The test hook of Config.testKillAfterLedger (loadConfig refuses it unless NODE_ENV=test): a real
 * SIGKILL of this process right after the ledger applied the write of that id (an event's id; an ops
 * write's cycleId, packId or adjustmentId; a budget set's sessionId; "sweep:<accountId>" for the
 * sweeper's touch, "plan:<sessionId>" for a plan set, "dismiss:<accountId>" for an alert dismissal),
 * before its outcome is published.
 */
export function killAfterLedger(id: string | undefined): ((applied: string) => void) | undefined {
  if (id === undefined) return undefined;
  return (applied) => {
    if (applied === id) process.kill(process.pid, "SIGKILL");
  };
}

function eventHook(hook: ((id: string) => void) | undefined): ((event: StageEvent) => void) | undefined {
  return hook && ((event) => hook(event.eventId));
}

/** Starts the metering consumer with its metrics, logs and /ops hooks. */
export function startConsumer({
  config,
  redis,
  ledger,
  publisher,
  outbox,
  metrics,
  opsStream,
  logger,
  onJobsInFlight,
}: ConsumerDeps): RunningConsumer {
  // A new worker for each try while its connection fails at setup (runWhenReady).
  const make = (): Worker<unknown, EventResult> => {
    const consumer = createConsumer({
      autorun: false,
      onJobsInFlight,
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
      outbox,
      priceBook: config.priceBook,
      idempotencyRetentionSeconds: config.idempotencyRetentionSeconds,
      ledgerRetryMs: config.ledgerRetryMs,
      onApplied: (outcome, ms, event) => metrics.applied(event.type, outcome, ms),
      afterLedger: eventHook(killAfterLedger(config.testKillAfterLedger)),
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
    countFailedJobs(consumer, redis, config.keyPrefix, (err) =>
      logger.warn({ err: err.message }, "counting a failed job failed"),
    );
    return consumer;
  };
  return runWhenReady(make, logger);
}
