import { randomUUID } from "node:crypto";
import { Queue, QueueEvents, type Worker } from "bullmq";
import type { RedisClientType } from "redis";
import { DEFAULT_PRICE_BOOK, type EventResult } from "@creditmeter/shared";
import { bullmqConnection, createConsumer, type LedgerOutcome, type Publisher, type RedisLedger } from "@creditmeter/server";
import { testLedger } from "./ledger.js";

/** A Publisher that keeps what it was given, for assertions on what would be pushed. */
export class RecordingPublisher implements Publisher {
  readonly outcomes: LedgerOutcome[] = [];
  publish(outcome: LedgerOutcome): void {
    this.outcomes.push(outcome);
  }
}

export interface Pipeline {
  ledger: RedisLedger;
  redis: RedisClientType;
  namespace: string;
  queue: Queue;
  events: QueueEvents;
  consumer: Worker<unknown, EventResult> | null;
  publisher: RecordingPublisher;
  queueName: string;
  prefix: string;
  close(): Promise<void>;
}

/** Ledger + real BullMQ queue + the real metering consumer, on a queue name of its own. */
export async function startPipeline(opts: { consumer?: boolean; concurrency?: number } = {}): Promise<Pipeline> {
  const { ledger, redis, namespace } = await testLedger();
  const queueName = `q-${randomUUID()}`;
  const prefix = "{creditmeter-test}";
  const connection = () => bullmqConnection(redis, () => undefined);
  const queue = new Queue(queueName, { connection: connection(), prefix });
  const events = new QueueEvents(queueName, { connection: connection(), prefix });
  await events.waitUntilReady();
  const publisher = new RecordingPublisher();
  const consumer =
    opts.consumer === false
      ? null
      : createConsumer({
          redis,
          queueName,
          queuePrefix: prefix,
          concurrency: opts.concurrency ?? 10,
          failedJobsKept: 1000,
          ledger,
          publisher,
          priceBook: DEFAULT_PRICE_BOOK,
          idempotencyRetentionSeconds: 30 * 86400,
        });
  return {
    ledger,
    redis,
    namespace,
    queue,
    events,
    consumer,
    publisher,
    queueName,
    prefix,
    async close() {
      await consumer?.close();
      await events.close();
      await queue.obliterate({ force: true });
      await queue.close();
      await redis.close();
    },
  };
}

/** Every key of a namespace with its DUMP, to prove a rejected input changed nothing. */
export async function snapshotKeys(redis: RedisClientType, namespace: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const keys of redis.scanIterator({ MATCH: `${namespace}:*`, COUNT: 1000 })) {
    for (const key of keys) {
      const dump = await redis.sendCommand(["DUMP", key]);
      out.set(key, String(dump));
    }
  }
  return out;
}
