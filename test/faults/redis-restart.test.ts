import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { Queue } from "bullmq";
import { createClient, type RedisClientType } from "redis";
import { RedisLedger, bullmqConnection } from "@creditmeter/server";
import { buildWorkload, prng, shuffle } from "../support/workload.js";
import { LEDGER_DEFAULTS, cycle } from "../support/ledger.js";
import { startRedis, waitFor, type TestRedis } from "../support/redis-server.js";
import { startLoopbackServer, type LoopbackServer } from "../support/server-process.js";
import { enqueueEvents, isDrained } from "../support/queue.js";

// Redis (AOF, appendfsync always) is killed and restarted mid-stream: the server reports
// not-ready, keeps running, resumes on its own, and the ledger ends exact. This is also the
// check that BullMQ's node-redis adapter reconnects (docs/decisions.md).
describe("Redis restarted mid-stream", () => {
  const dir = mkdtempSync(join(tmpdir(), "creditmeter-aof-"));
  const aof = ["--appendonly", "yes", "--appendfsync", "always", "--dir", dir];
  let redisServer: TestRedis;
  let server: LoopbackServer | null = null;
  let client: RedisClientType | null = null;
  let queue: Queue | null = null;

  afterAll(async () => {
    await server?.kill("SIGKILL");
    await queue?.close().catch(() => undefined);
    await client?.close().catch(() => undefined);
    await redisServer?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("survives the restart with exact totals", async () => {
    redisServer = await startRedis(aof);
    client = createClient({ url: redisServer.url, socket: { reconnectStrategy: () => 100 } });
    client.on("error", () => undefined);
    await client.connect();
    const namespace = `t-${randomUUID()}`;
    const queueName = `restart-${randomUUID()}`;
    const ledger = new RedisLedger({
      redis: client,
      namespace,
      ...LEDGER_DEFAULTS,
    });
    const q = new Queue(queueName, { connection: bullmqConnection(client, () => undefined), prefix: "{creditmeter}" });
    queue = q;
    const accounts = ["rr-0", "rr-1", "rr-2", "rr-3"];
    for (const a of accounts) {
      await ledger.putAccount(a, { plan: "free" });
      await ledger.startCycle(a, cycle(`c-${a}`, 1_000_000));
    }
    const { events, expected } = buildWorkload({
      accounts,
      sessionsPerAccount: 3,
      stepsPerSession: 40,
      plan: "free",
      seed: 21,
      tag: "rr",
    });
    const ordered = shuffle(events, prng(8));
    const half = Math.floor(ordered.length / 2);
    server = await startLoopbackServer({
      REDIS_URL: redisServer.url,
      CREDITMETER_KEY_PREFIX: namespace,
      CREDITMETER_QUEUE: queueName,
      CREDITMETER_JOB_LOCK_MS: "1000",
    });
    const ready = server.readyz;

    await enqueueEvents(q, ordered.slice(0, half));
    await redisServer.process.kill("SIGKILL");
    await waitFor(async () => (await ready()) === 503, 10_000, "readyz to report not ready");
    expect(server.proc.exitCode).toBeNull();

    redisServer = await startRedis(aof, redisServer.port);
    await waitFor(async () => (await ready()) === 200, 30_000, "readyz to recover");
    await waitFor(async () => client?.isReady === true, 10_000, "the test client to reconnect");
    // enqueueEvents uses addBulk: BullMQ runs its scripts in a MULTI, so they must be re-loaded after the restart.
    await enqueueEvents(q, ordered.slice(half));
    await waitFor(() => isDrained(q), 60_000, "the queue to drain").catch(async (err: unknown) => {
      throw new Error(
        `${String(err)}; counts ${JSON.stringify(await queue?.getJobCounts())}; server stderr: ${server?.stderr()}`,
      );
    });
    for (const [accountId, exp] of expected) {
      expect(await ledger.balance(accountId), accountId).toMatchObject({
        used: exp.charged,
        held: 0,
        available: 1_000_000 - exp.charged,
      });
    }
    expect(await server.kill("SIGTERM")).toBe(0);
  }, 150_000);
});
