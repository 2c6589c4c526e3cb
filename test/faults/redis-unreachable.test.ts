import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { createClient, type RedisClientType } from "redis";
import type { Balance } from "@creditmeter/shared";
import { RedisLedger } from "@creditmeter/server";
import { StageReporter } from "@creditmeter/reporter";
import { createCreditMeter, type ConnectionState, type CreditMeter } from "@creditmeter/panel/sdk";
import { mintToken } from "../../server/src/auth/index.js";
import { LEDGER_DEFAULTS, cycle } from "../support/ledger.js";
import { startRedis, waitFor, type TestRedis } from "../support/redis-server.js";
import { startLoopbackServer, type LoopbackServer } from "../support/server-process.js";

const OUTAGE_MS = Number(process.env.CREDITMETER_FAULT_OUTAGE_MS ?? 3000);
const SECRET = "unreachable-test-secret-0123456789";

// Redis frozen (SIGSTOP: the TCP connections stay open and nothing answers, the nastiest kind of
// unreachable) while a worker reports and a panel watches. The server reports not-ready and
// stays up, the panel keeps its socket, the worker's calls wait and then complete, and a
// worker repeating its call afterwards is told `duplicate`: nothing is charged twice.
describe(`Redis unreachable for ${OUTAGE_MS} ms`, () => {
  let redisServer: TestRedis;
  let server: LoopbackServer | null = null;
  let client: RedisClientType | null = null;
  let reporter: StageReporter | null = null;
  let meter: CreditMeter | null = null;

  afterAll(async () => {
    redisServer?.process.kill("SIGCONT");
    meter?.close();
    await reporter?.close().catch(() => undefined);
    await server?.kill("SIGKILL");
    await client?.close().catch(() => undefined);
    await redisServer?.stop();
  });

  it("nothing crashes, nothing is lost, nothing is charged twice", async () => {
    redisServer = await startRedis();
    client = createClient({ url: redisServer.url });
    client.on("error", () => undefined);
    await client.connect();
    const namespace = `t-${randomUUID()}`;
    const queueName = `unreach-${randomUUID()}`;
    const ledger = new RedisLedger({
      redis: client,
      namespace,
      ...LEDGER_DEFAULTS,
      idempotencyRetentionSeconds: 86400,
    });
    await ledger.putAccount("ur", { plan: "free" });
    await ledger.startCycle("ur", cycle("c1", 1000));
    server = await startLoopbackServer({
      REDIS_URL: redisServer.url,
      CREDITMETER_KEY_PREFIX: namespace,
      CREDITMETER_QUEUE: queueName,
      CREDITMETER_AUTH_SECRET: SECRET,
      CREDITMETER_PUSH_COALESCE_MS: "0",
    });
    const base = server.url;
    const ready = server.readyz;

    const states: ConnectionState[] = [];
    let balance: Balance | null = null;
    meter = createCreditMeter({
      url: base,
      token: await mintToken(SECRET, { sub: "ur", role: "user", ttlSeconds: 600 }),
      reconnectionDelayMs: 100,
      reconnectionDelayMaxMs: 1000,
    });
    meter.onState((s) => states.push(s));
    meter.onBalance((b) => (balance = b));
    await waitFor(() => meter?.state === "connected" && balance !== null, 10_000, "the panel to connect");

    const errors: Error[] = [];
    reporter = new StageReporter({
      connection: { url: redisServer.url },
      queueName,
      accountId: "ur",
      sessionId: "s1",
      decisionTimeoutMs: 30_000,
      onError: (e) => errors.push(e),
    });
    await reporter.completed("before", { action: "script" }, { wait: true });

    redisServer.process.kill("SIGSTOP");
    const outageStart = Date.now();
    // Called while Redis is frozen: it waits (node-redis queues the command) instead of failing.
    const during = reporter.completed("during", { action: "storyboard" }, { wait: true });
    await waitFor(async () => (await ready()) === 503, 10_000, "readyz to report not ready while Redis is frozen");
    await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS - (Date.now() - outageStart))));
    expect(server.proc.exitCode).toBeNull();
    expect(meter.state).toBe("connected"); // the panel's socket does not depend on Redis
    redisServer.process.kill("SIGCONT");

    expect(await during).toMatchObject({ status: "applied", charged: 1 });
    // The worker, unsure, repeats both calls: the same derived event ids, answered `duplicate`.
    expect(await reporter.completed("during", { action: "storyboard" }, { wait: true })).toMatchObject({
      status: "duplicate",
      charged: 0,
    });
    expect(await reporter.completed("before", { action: "script" }, { wait: true })).toMatchObject({
      status: "duplicate",
      charged: 0,
    });
    await waitFor(async () => (await ready()) === 200, 20_000, "readyz to recover");
    expect(await ledger.balance("ur")).toMatchObject({ used: 2, available: 998, held: 0 });
    await waitFor(() => balance?.used === 2, 10_000, "the panel to show the exact total");
    expect(states).not.toContain("unauthorized");
    expect(server.proc.exitCode).toBeNull();
    expect(await server.kill("SIGTERM")).toBe(0);
  }, 90_000);
});
