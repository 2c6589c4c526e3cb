import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Queue } from "bullmq";
import { createClient, type RedisClientType } from "redis";
import { RedisLedger, bullmqConnection } from "@creditmeter/server";
import { mintToken } from "../../server/src/auth/index.js";
import { accountKeys } from "../../server/src/ledger/keys.js";
import { LEDGER_DEFAULTS, cycle, stageEvent } from "../support/ledger.js";
import { enqueueEvents } from "../support/queue.js";
import { waitFor } from "../support/redis-server.js";
import { startLoopbackServer, type LoopbackServer } from "../support/server-process.js";
import { inject } from "vitest";

const SECRET = "retries-test-secret-0123456789";

// Events queued over HTTP are retried with exponential backoff through transient errors, never
// through unrecoverable ones; and every job that fails for good is counted in Redis by reason, so
// that none trimmed past CREDITMETER_FAILED_JOBS_KEPT disappears unseen (creditmeter_failed_jobs_total).
describe("failed attempts and failed jobs", () => {
  let redis: RedisClientType;
  let queue: Queue;
  let ledger: RedisLedger;
  let server: LoopbackServer;
  let base = "";
  const namespace = `t-${randomUUID()}`;
  const queueName = `retries-${randomUUID()}`;
  const start = async () => {
    server = await startLoopbackServer({
      REDIS_URL: inject("redisUrl"),
      CREDITMETER_KEY_PREFIX: namespace,
      CREDITMETER_QUEUE: queueName,
      CREDITMETER_AUTH_SECRET: SECRET,
      CREDITMETER_METRICS_PUBLIC: "true",
      CREDITMETER_EVENT_ATTEMPTS: "5",
      CREDITMETER_EVENT_BACKOFF_MS: "200",
      CREDITMETER_LEDGER_RETRY_MS: "100",
      CREDITMETER_FAILED_JOBS_KEPT: "1",
    });
    base = server.url;
  };
  const post = async (body: object) =>
    fetch(`${base}/v1/events`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${await mintToken(SECRET, { sub: "farm", role: "worker", ttlSeconds: 600 })}`,
      },
      body: JSON.stringify(body),
    });
  const failedTotal = async (reason: string): Promise<number> => {
    const text = await (await fetch(`${base}/metrics`)).text();
    return Number(
      new RegExp(`^creditmeter_failed_jobs_total\\{reason="${reason}"\\} (\\d+)$`, "m").exec(text)?.[1] ?? 0,
    );
  };

  beforeAll(async () => {
    redis = createClient({ url: inject("redisUrl") });
    redis.on("error", () => undefined);
    await redis.connect();
    queue = new Queue(queueName, { connection: bullmqConnection(redis, () => undefined), prefix: "{creditmeter}" });
    ledger = new RedisLedger({
      redis,
      namespace,
      ...LEDGER_DEFAULTS,
      idempotencyRetentionSeconds: 86400,
    });
    await start();
  });
  afterAll(async () => {
    await server?.kill("SIGKILL");
    await queue?.obliterate({ force: true });
    await queue?.close();
    await redis?.close();
  });

  it("retries an HTTP event with backoff through a transient error and charges it once", async () => {
    await ledger.putAccount("flaky", { plan: "free" });
    await ledger.startCycle("flaky", cycle("c1", 1000));
    // The account's hash replaced by a string: every ledger call fails (WRONGTYPE) until it is put back.
    const keys = accountKeys(namespace, "flaky");
    const account = await redis.hGetAll(keys.account);
    await redis.del(keys.account);
    await redis.set(keys.account, "poisoned");
    const event = stageEvent({
      type: "stage.completed",
      action: "image",
      accountId: "flaky",
      sessionId: "s1",
      scenes: 1,
    });
    expect((await post(event)).status).toBe(202);
    await waitFor(
      async () => ((await queue.getJob(event.eventId))?.attemptsMade ?? 0) >= 1,
      30_000,
      "a first attempt to fail",
    );
    await redis.del(keys.account);
    await redis.hSet(keys.account, account);
    await waitFor(
      async () => (await ledger.session("flaky", "s1")).used === 3,
      30_000,
      "a later attempt to charge the event",
    );
    expect((await ledger.balance("flaky")).available).toBe(997);
    expect((await queue.getJobCounts("failed")).failed).toBe(0);
  });

  it("does not retry an unrecoverable error (unknown account)", async () => {
    const event = stageEvent({ type: "stage.completed", action: "image", accountId: "nobody-here", scenes: 1 });
    // 202 once queued; 404 when the consumer failed the job before the intake looked at what holds
    // its id (a quiet machine): the intake cannot tell its own failed job from an earlier one.
    expect([202, 404]).toContain((await post(event)).status);
    await waitFor(async () => (await queue.getJob(event.eventId))?.finishedOn !== undefined, 30_000, "the job to fail");
    const job = await queue.getJob(event.eventId);
    expect(job?.failedReason).toMatch(/^unknown_account/);
    expect(job?.attemptsMade).toBe(1);
  });

  it("counts every job failed for good, past the kept ones and across a restart", async () => {
    await waitFor(async () => (await failedTotal("unknown_account")) === 1, 10_000, "the first failure counted");
    await enqueueEvents(
      queue,
      [1, 2, 3].map(() =>
        stageEvent({ type: "stage.completed", action: "image", accountId: "nobody-here", scenes: 1 }),
      ),
    );
    await waitFor(async () => (await failedTotal("unknown_account")) === 4, 30_000, "4 failures counted");
    expect((await queue.getJobCounts("failed")).failed, "the queue keeps CREDITMETER_FAILED_JOBS_KEPT").toBe(1);
    expect(await server.kill("SIGTERM")).toBe(0);
    await start();
    expect(await failedTotal("unknown_account")).toBe(4);
  });
});
