import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { Queue } from "bullmq";
import { buildWorkload, prng, shuffle } from "../support/workload.js";
import { cycle, testLedger } from "../support/ledger.js";
import { waitFor } from "../support/redis-server.js";
import { spawnLoopbackServer, type ServerProcess } from "../support/server-process.js";
import { bullmqConnection, type RedisLedger } from "@creditmeter/server";
import type { RedisClientType } from "redis";
import { enqueueEvents, pendingJobs } from "../support/queue.js";

const KILLS = Number(process.env.CREDITMETER_FAULT_KILLS ?? 3);
const STEPS = Number(process.env.CREDITMETER_FAULT_STEPS ?? 25);
// Full mode (npm run test:faults: 5 kills, ~20,000 events) needs minutes, not the default minute.
const TIMEOUT_MS = 60_000 + KILLS * 60_000 + 90_000;

// The consumer process is SIGKILLed mid-stream and restarted; BullMQ's stalled-job recovery plus
// the idempotent ledger must leave totals exact: nothing doubled, nothing lost.
describe("consumer killed with SIGKILL mid-stream", () => {
  let ledger: RedisLedger;
  let redis: RedisClientType;
  let namespace: string;
  let queue: Queue;
  const queueName = `crash-${randomUUID()}`;
  let server: ServerProcess | null = null;

  beforeAll(async () => {
    ({ ledger, redis, namespace } = await testLedger());
    queue = new Queue(queueName, { connection: bullmqConnection(redis, () => undefined), prefix: "{creditmeter}" });
  });
  afterAll(async () => {
    await server?.kill("SIGKILL");
    await queue.obliterate({ force: true });
    await queue.close();
    await redis.close();
  });

  // A consumer-only process (it still listens, for its probes); not waited for: the kills come mid-stream.
  const start = () =>
    spawnLoopbackServer({
      REDIS_URL: inject("redisUrl"),
      CREDITMETER_KEY_PREFIX: namespace,
      CREDITMETER_QUEUE: queueName,
      CREDITMETER_HTTP: "false",
      CREDITMETER_CONCURRENCY: "50",
      CREDITMETER_JOB_LOCK_MS: "1000",
    });
  const pending = () => pendingJobs(queue);

  it(
    `ends exactly on the reference model after ${KILLS} kills of a ${STEPS}-steps-per-session stream`,
    async () => {
      const accounts = Array.from({ length: 10 }, (_, i) => `crash-${i}`);
      for (const a of accounts) {
        await ledger.putAccount(a, { plan: "free" });
        await ledger.startCycle(a, cycle(`c-${a}`, 10_000_000));
      }
      const { events, expected } = buildWorkload({
        accounts,
        sessionsPerAccount: 4,
        stepsPerSession: STEPS,
        plan: "free",
        seed: 11,
        tag: "crash",
      });
      await enqueueEvents(queue, shuffle(events, prng(4)));
      const total = events.length;
      const slice = Math.floor(total / (KILLS + 1));

      for (let kill = 1; kill <= KILLS; kill++) {
        server = await start();
        const target = total - kill * slice;
        await waitFor(
          async () => (await pending()) <= target,
          60_000,
          `kill ${kill}: the consumer to get through ${kill * slice} events`,
        );
        expect(await server.kill("SIGKILL")).toBe("SIGKILL");
      }
      server = await start();
      await waitFor(async () => (await pending()) === 0, 90_000, "the queue to drain after the last restart");
      expect(await queue.getJobCounts("failed")).toEqual({ failed: 0 });
      expect(await server.kill("SIGTERM")).toBe(0);
      expect(events.length).toBeGreaterThan(STEPS * 40 * 2);

      for (const [accountId, exp] of expected) {
        const bal = await ledger.balance(accountId);
        expect(bal, accountId).toMatchObject({
          used: exp.charged,
          held: 0,
          available: 10_000_000 - exp.charged,
          overdraft: 0,
        });
        for (const [sessionId, ses] of exp.sessions) {
          expect(await ledger.session(accountId, sessionId), `${accountId}/${sessionId}`).toMatchObject({
            used: ses.used,
            reserved: 0,
            byStage: ses.byStage,
          });
        }
      }
    },
    TIMEOUT_MS,
  );
});
