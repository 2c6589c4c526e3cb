import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, inject, it } from "vitest";
import { Queue } from "bullmq";
import { bullmqConnection, type RedisLedger } from "@creditmeter/server";
import type { Balance, SessionUpdate } from "@creditmeter/shared";
import { createCreditMeter, type CreditMeter } from "@creditmeter/panel/sdk";
import { mintToken } from "../../server/src/auth/index.js";
import { cycle, testLedger } from "../support/ledger.js";
import { waitFor } from "../support/redis-server.js";
import { startLoopbackServer, type ServerProcess } from "../support/server-process.js";
import { completed } from "../realtime/harness.js";
import type { RedisClientType } from "redis";

const PANELS = Number(process.env.CREDITMETER_FAULT_PANELS ?? 500);
const ACCOUNTS = 20;
const SECRET = "storm-test-secret-0123456789abcdef";

// The server every panel is connected to restarts (SIGTERM, a deploy): all panels are dropped at
// once and come back with the SDK's jittered backoff. Charges land before, while the server is
// down, and after; every panel must end on the exact balance and session totals.
describe(`reconnection storm of ${PANELS} panels`, () => {
  let ledger: RedisLedger;
  let redis: RedisClientType;
  let namespace: string;
  let queue: Queue;
  let server: ServerProcess | null = null;
  const meters: CreditMeter[] = [];
  const queueName = `storm-${randomUUID()}`;

  afterAll(async () => {
    for (const m of meters) m.close();
    await server?.kill("SIGKILL");
    await queue?.obliterate({ force: true });
    await queue?.close();
    await redis?.close();
  });

  it("every panel reconnects and ends on exact totals", async () => {
    ({ ledger, redis, namespace } = await testLedger());
    queue = new Queue(queueName, { connection: bullmqConnection(redis, () => undefined), prefix: "{creditmeter}" });
    const accounts = Array.from({ length: ACCOUNTS }, (_, i) => `storm-${i}`);
    for (const a of accounts) {
      await ledger.putAccount(a, { plan: "free" });
      await ledger.startCycle(a, cycle(`c-${a}`, 100_000));
    }
    // Restarted on the port the first start listened on: the panels reconnect to the address they know.
    const address: { port?: number } = {};
    const start = () =>
      startLoopbackServer(
        {
          REDIS_URL: inject("redisUrl"),
          CREDITMETER_KEY_PREFIX: namespace,
          CREDITMETER_QUEUE: queueName,
          CREDITMETER_AUTH_SECRET: SECRET,
          CREDITMETER_CONNECTIONS_PER_IP_PER_MINUTE: String(PANELS * 10),
          CREDITMETER_REQUESTS_PER_IP_PER_MINUTE: "1000000",
        },
        { port: address.port },
      );
    const first = await start();
    server = first;
    address.port = first.port;
    const base = first.url;

    const tokens = new Map<string, string>();
    for (const a of accounts) tokens.set(a, await mintToken(SECRET, { sub: a, role: "user", ttlSeconds: 3600 }));
    const views: { account: string; balance: Balance | null; session: SessionUpdate | null; reconnects: number }[] = [];
    for (let i = 0; i < PANELS; i++) {
      const account = accounts[i % ACCOUNTS] ?? "storm-0";
      const view = { account, balance: null as Balance | null, session: null as SessionUpdate | null, reconnects: 0 };
      const meter = createCreditMeter({
        url: base,
        token: tokens.get(account) ?? "",
        reconnectionDelayMs: 300,
        reconnectionDelayMaxMs: 3000,
      });
      meter.onBalance((b) => (view.balance = b));
      meter.watchSession("s1", (u) => (view.session = u));
      meter.onState((s) => s === "reconnecting" && (view.reconnects += 1));
      meters.push(meter);
      views.push(view);
    }
    await waitFor(
      () => views.every((v) => v.balance !== null && v.session !== null),
      30_000,
      "every panel's first snapshot",
    );

    const charge = async (perAccount: number) => {
      const events = accounts.flatMap((a) => Array.from({ length: perAccount }, () => completed(a, "s1", "script")));
      await queue.addBulk(events.map((e) => ({ name: e.type, data: e, opts: { jobId: e.eventId } })));
    };
    await charge(2);
    expect(await server.kill("SIGTERM")).toBe(0);
    await charge(3); // queued while no consumer runs
    server = await start();
    await charge(1);

    const exact = () => views.every((v) => v.balance?.used === 6 && v.session?.used === 6);
    await waitFor(exact, 60_000, "every panel to show the exact totals").catch((err: unknown) => {
      const off = views.filter((v) => !(v.balance?.used === 6 && v.session?.used === 6));
      throw new Error(
        `${String(err)}: ${off.length} panels off, e.g. ${JSON.stringify(off.slice(0, 3).map((v) => [v.account, v.balance?.used, v.session?.used]))}; ${server?.stderr()}`,
      );
    });
    expect(views.every((v) => v.reconnects >= 1)).toBe(true);
    expect(meters.every((m) => m.state === "connected")).toBe(true);
    for (const a of accounts) expect(await ledger.balance(a)).toMatchObject({ used: 6, available: 100_000 - 6 });
    expect(await server.kill("SIGTERM")).toBe(0);
  }, 120_000);
});
