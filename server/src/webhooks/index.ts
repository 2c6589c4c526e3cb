import { Queue, type Worker } from "bullmq";
import type { Logger } from "pino";
import type { Config } from "../config/config.js";
import { bullmqConnection } from "../metering/bullmq-connection.js";
import type { Metrics } from "../ops/metrics.js";
import type { AppRedis } from "../redis/redis-client.js";
import { RedisLedger } from "../ledger/redis-ledger.js";
import { attemptsFor } from "./backoff.js";
import { createDeliveryWorker } from "./delivery-worker.js";
import { webhookQueueName } from "./jobs.js";
import { WebhookOutbox } from "./outbox.js";
import { WebhookStore } from "./store.js";

/** The webhooks room of a process: the registry, the outbox every process feeds, the delivery worker. */
export interface Webhooks {
  store: WebhookStore;
  outbox: WebhookOutbox;
  /** Starts delivering (processes that run the consumer do). */
  startWorker(): void;
  close(): Promise<void>;
}

/**
 * Builds the webhooks room on the server's Redis (docs/webhooks.md). `ledger` marks the events whose
 * webhooks are queued (the server passes its own; by default one on the same Redis and namespace).
 */
export function createWebhooks(
  redis: AppRedis,
  config: Config,
  logger: Logger,
  metrics?: Metrics,
  ledger: Pick<RedisLedger, "markWebhooksQueued" | "markRaisedQueued"> = RedisLedger.fromConfig(redis, config),
): Webhooks {
  const store = new WebhookStore(redis, config.keyPrefix);
  const name = webhookQueueName(config.queueName);
  const onConnError = (err: Error): void => logger.debug({ err: err.message }, "webhook queue connection error");
  const queue = new Queue(name, { connection: bullmqConnection(redis, onConnError), prefix: config.queuePrefix });
  queue.on("error", (err) => logger.debug({ err: err.message }, "webhook queue error"));
  const attempts = attemptsFor(config.webhooks.retryBaseMs);
  const outbox = new WebhookOutbox({
    store,
    queue,
    jobOptions: {
      attempts,
      // Finished jobs stay a day: their ids keep a late repeat of the same event from delivering twice.
      removeOnComplete: { age: 86_400, count: 100_000 },
      removeOnFail: { age: 30 * 86_400, count: 10_000 },
    },
    onError: (err, event) => {
      metrics?.webhookEnqueueFailures.inc();
      logger.error(
        { err, type: event.type, accountId: event.accountId, key: event.key },
        "queueing a webhook delivery failed",
      );
    },
    markQueued: (accountId, eventId) => ledger.markWebhooksQueued(accountId, eventId),
    markRaisedQueued: (accountId, record) => ledger.markRaisedQueued(accountId, record),
  });
  let worker: Worker<unknown, string> | null = null;
  return {
    store,
    outbox,
    startWorker() {
      if (worker) return;
      worker = createDeliveryWorker({
        queueName: name,
        prefix: config.queuePrefix,
        connection: bullmqConnection(redis, onConnError),
        store,
        retryBaseMs: config.webhooks.retryBaseMs,
        attempts,
        timeoutMs: config.webhooks.timeoutMs,
        allowPrivate: config.webhooks.allowPrivate,
        concurrency: config.webhooks.concurrency,
        lockMs: config.jobLockMs,
        onAttempt: (webhookId, deliveryId, result) => {
          metrics?.webhookAttempts.inc({ result: result.ok ? "delivered" : "failed" });
          // The URL is not logged: it may carry a token in its query string.
          logger.info(
            { webhookId, deliveryId, status: result.status, error: result.error },
            result.ok ? "webhook delivered" : "webhook attempt failed",
          );
        },
      });
      worker.on("error", (err) => logger.warn({ err: err.message }, "webhook worker error"));
    },
    async close() {
      await outbox.flush();
      await worker?.close();
      await queue.close();
    },
  };
}
