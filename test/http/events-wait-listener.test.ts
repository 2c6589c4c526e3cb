// The decision waiters' listener (server/src/metering/decision-waiters.ts) on a real Redis and
// BullMQ: open only while requests wait, closed when idle, and a listener opened late misses
// nothing of a job added after its watch returned, however late its connection starts reading.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Queue, QueueEvents, Worker } from "bullmq";
import type { RedisClientType } from "redis";
import { bullmqConnection } from "@creditmeter/server";
import { DecisionWaiters } from "../../server/src/metering/decision-waiters.js";
import { testRedis } from "../support/ledger.js";
import { waitFor } from "../support/redis-server.js";

const PREFIX = "{creditmeter}";
let redis: RedisClientType;
let queue: Queue;
let worker: Worker;
const opened: QueueEvents[] = [];
let waiters: DecisionWaiters;

beforeAll(async () => {
  redis = await testRedis();
  const name = `waiters-${randomUUID()}`;
  queue = new Queue(name, { connection: bullmqConnection(redis, () => undefined), prefix: PREFIX });
  worker = new Worker(name, (job) => Promise.resolve({ done: job.id }), {
    connection: bullmqConnection(redis, () => undefined),
    prefix: PREFIX,
  });
  waiters = new DecisionWaiters(
    {
      lastEventId: async () => (await redis.xRevRange(queue.toKey("events"), "+", "-", { COUNT: 1 }))[0]?.id ?? "0-0",
      // Not run yet: the test starts it, as late as it likes (a slow connection).
      open: (lastEventId) => {
        const listener = new QueueEvents(name, {
          connection: bullmqConnection(redis, () => undefined),
          prefix: PREFIX,
          lastEventId,
          autorun: false,
        });
        opened.push(listener);
        return listener;
      },
    },
    50,
  );
});

afterAll(async () => {
  await waiters.close();
  await worker.close();
  await queue.close();
  await redis.close();
});

/** Whether the job has completed (read from the queue, not from any listener). */
const completed = async (id: string) => (await queue.getJobState(id)) === "completed";

describe("the decision waiters' listener", () => {
  it("opens for a wait, hears a job finished before it read anything, closes when idle and opens again", async () => {
    expect(waiters.listening).toBe(false);
    // Events of other jobs before the watch: not for it, and not a reason to open.
    await queue.add("x", {}, { jobId: "before" });
    await waitFor(() => completed("before"), 10_000, "the job before");
    expect(opened).toHaveLength(0);

    const first = await waiters.watch("j1", 10_000);
    await queue.add("x", {}, { jobId: "j1" });
    await waitFor(() => completed("j1"), 10_000, "j1 completed");
    // Only now does the listener's connection start reading: it must begin after the watch, not at "$".
    void opened[0]?.run();
    expect(await first.next()).toEqual({ kind: "completed", returnvalue: { done: "j1" } });
    first.cancel();
    await waitFor(() => !waiters.listening, 10_000, "the idle listener closed");

    await queue.add("x", {}, { jobId: "between" });
    await waitFor(() => completed("between"), 10_000, "the job between");
    const second = await waiters.watch("j2", 10_000);
    expect(opened).toHaveLength(2);
    await queue.add("x", {}, { jobId: "j2" });
    await waitFor(() => completed("j2"), 10_000, "j2 completed");
    void opened[1]?.run();
    expect(await second.next()).toEqual({ kind: "completed", returnvalue: { done: "j2" } });
    second.cancel();
  });
});
