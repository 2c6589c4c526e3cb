import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { Queue } from "bullmq";
import { createClient, type RedisClientType } from "redis";
import { RedisLedger, bullmqConnection } from "@creditmeter/server";
import { accountKeys } from "../../server/src/ledger/keys.js";
import { LEDGER_DEFAULTS, cycle, stageEvent } from "../support/ledger.js";
import { enqueueEvents } from "../support/queue.js";
import { startRedis, waitFor, type TestRedis } from "../support/redis-server.js";
import { spawnLoopbackServer, startLoopbackServer, type ServerProcess } from "../support/server-process.js";
import { mintToken } from "../../server/src/auth/index.js";

const SECRET = "stop-test-secret-0123456789abcdef0123456789";

// SIGTERM always ends the process (CONTRACT §8 v1.1): within CREDITMETER_STOP_TIMEOUT_MS, after
// which it exits non-zero naming what it could not finish; /readyz is 503 from the moment the drain
// starts. Each test runs its own redis-server, because one of them freezes it.
const STOP_TIMEOUT_MS = 2000;
// How much later than the timeout the exit may come on a loaded two-core machine (process exit, the
// test's own polling); the bug this guards against is a process that never exits at all.
const MARGIN_MS = 5000;

describe("stopping the server", () => {
  let redisServer: TestRedis | null = null;
  let server: ServerProcess | null = null;
  const clients: RedisClientType[] = [];

  afterEach(async () => {
    redisServer?.process.kill("SIGCONT");
    await server?.kill("SIGKILL");
    for (const c of clients.splice(0)) await c.close().catch(() => undefined);
    await redisServer?.stop();
    server = null;
    redisServer = null;
  });

  /** A server of its own on its own Redis, ready; `env` adds to the defaults. */
  async function start(env: Record<string, string> = {}) {
    redisServer = await startRedis();
    const client: RedisClientType = createClient({ url: redisServer.url });
    client.on("error", () => undefined);
    await client.connect();
    clients.push(client);
    const namespace = `t-${randomUUID()}`;
    const queueName = `stop-${randomUUID()}`;
    const running = await startLoopbackServer({
      REDIS_URL: redisServer.url,
      CREDITMETER_KEY_PREFIX: namespace,
      CREDITMETER_QUEUE: queueName,
      CREDITMETER_STOP_TIMEOUT_MS: String(STOP_TIMEOUT_MS),
      CREDITMETER_AUTH_SECRET: SECRET,
      ...env,
    });
    server = running;
    return { client, namespace, queueName, base: running.url, readyz: running.readyz, server: running };
  }

  it("exits non-zero within the stop timeout when its Redis is frozen", async () => {
    const { server: proc } = await start();
    redisServer?.process.kill("SIGSTOP"); // connections stay open, nothing answers: the drain can never finish
    const sent = Date.now();
    proc.proc.kill("SIGTERM");
    const code = await Promise.race([
      proc.exited,
      new Promise((resolve) => setTimeout(() => resolve("still running"), STOP_TIMEOUT_MS + MARGIN_MS)),
    ]);
    const took = Date.now() - sent;
    expect(code, `exit after SIGTERM (stderr: ${proc.stderr().slice(-500)})`).toBe(1);
    expect(took).toBeLessThan(STOP_TIMEOUT_MS + MARGIN_MS);
    expect(took).toBeGreaterThanOrEqual(STOP_TIMEOUT_MS - 100);
    expect(proc.stderr()).toMatch(
      /stop timed out after 2000 ms \(CREDITMETER_STOP_TIMEOUT_MS\); not finished: .*closing the consumer/,
    );
  });

  it("answers /readyz 503 while it drains, refuses API changes then, names the job it could not finish, and the job is redelivered", async () => {
    const {
      client,
      namespace,
      queueName,
      base,
      readyz,
      server: proc,
    } = await start({
      CREDITMETER_JOB_LOCK_MS: "1000",
    });
    const ledger = new RedisLedger({
      redis: client,
      namespace,
      ...LEDGER_DEFAULTS,
      idempotencyRetentionSeconds: 86400,
    });
    await ledger.putAccount("stuck", { plan: "free" });
    await ledger.startCycle("stuck", cycle("c1", 1000));
    // The account's hash replaced by a string: the ledger script fails with WRONGTYPE, which the
    // consumer takes for a transient Redis error and retries (30 s): a job that stays in flight.
    const keys = accountKeys(namespace, "stuck");
    const account = await client.hGetAll(keys.account);
    await client.del(keys.account);
    await client.set(keys.account, "poisoned");
    const queue = new Queue(queueName, {
      connection: bullmqConnection(client, () => undefined),
      prefix: "{creditmeter}",
    });
    try {
      const event = stageEvent({ type: "stage.completed", action: "image", accountId: "stuck", scenes: 1 });
      await enqueueEvents(queue, [event]);
      await waitFor(async () => (await queue.getJobCounts("active")).active === 1, 20_000, "the job to be in flight");

      proc.proc.kill("SIGTERM");
      // Redis answers and the consumer still runs its job: only the drain can make /readyz say 503.
      await waitFor(async () => (await readyz()) === 503, 1500, "/readyz to answer 503 once the drain started");
      expect(await client.ping()).toBe("PONG");
      expect(proc.proc.exitCode).toBeNull();

      // A change that arrives while the process drains is refused and changes nothing: the realtime
      // server, the /ops stream and the webhook outbox it would need are about to close.
      await ledger.putAccount("late", { plan: "free" });
      const ops = await mintToken(SECRET, { sub: "ops", role: "ops", ttlSeconds: 600 });
      const grant = await fetch(`${base}/v1/accounts/late/packs`, {
        method: "POST",
        headers: { Authorization: `Bearer ${ops}`, "Content-Type": "application/json" },
        body: JSON.stringify({ packId: "p-late", credits: 50 }),
        signal: AbortSignal.timeout(3000),
      });
      expect(grant.status).toBe(503);
      expect(((await grant.json()) as { error: { code: string } }).error.code).toBe("unavailable");
      expect((await ledger.balance("late")).available).toBe(0);

      const code = await Promise.race([
        proc.exited,
        new Promise((resolve) => setTimeout(() => resolve("still running"), STOP_TIMEOUT_MS + MARGIN_MS)),
      ]);
      expect(code, proc.stderr().slice(-500)).toBe(1);
      expect(proc.stderr()).toMatch(/not finished: 1 job\(s\) in flight, not acknowledged/);

      // Nothing is lost: with the account repaired, the next consumer gets the job again and applies it.
      await client.del(keys.account);
      await client.hSet(keys.account, account);
      server = await spawnLoopbackServer({
        REDIS_URL: redisServer?.url ?? "",
        CREDITMETER_KEY_PREFIX: namespace,
        CREDITMETER_QUEUE: queueName,
        CREDITMETER_JOB_LOCK_MS: "1000",
      });
      await waitFor(
        async () => (await ledger.session("stuck", "s1")).used === 3,
        30_000,
        "the redelivered job to be charged",
      );
      expect((await ledger.balance("stuck")).available).toBe(997);
    } finally {
      await queue.close();
    }
  });
});
