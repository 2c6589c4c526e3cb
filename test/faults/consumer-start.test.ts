import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { createClient, type RedisClientType } from "redis";
import { startRedis, waitFor, type TestRedis } from "../support/redis-server.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** What test/support/unready-consumer.ts reports every 500 ms. */
interface Report {
  wallMs: number;
  cpuMs: number;
  retries: number;
  running: boolean;
}

/** How many clients Redis has refused (maxclients), read on the one client it accepted. */
async function refusedConnections(client: RedisClientType | null): Promise<number> {
  if (!client) throw new Error("no client holds Redis's slot");
  const count = /^rejected_connections:(\d+)/m.exec(await client.info("stats"))?.[1];
  if (count === undefined) throw new Error("INFO stats has no rejected_connections");
  return Number(count);
}

// Issue 12: a consumer whose connection failed at setup used to spin in BullMQ's fetch loop (every
// fetch failing at once), starving its own event loop. `runWhenReady` (server/src/app/run-when-ready.ts)
// runs the worker only once its connection is ready. Here the server's startConsumer runs in a child
// against a Redis that refuses every new client (maxclients reached: each connection is answered
// with an error at its handshake) until the test lets clients in again. It must wait cheaply: no
// reconnect storm against the refusing Redis (redis-factory.ts names its clients for that).
describe("a consumer started while Redis refuses its connections", () => {
  let redis: TestRedis | null = null;
  let holder: RedisClientType | null = null;
  let child: ChildProcess | null = null;
  afterEach(async () => {
    child?.kill("SIGKILL");
    await holder?.close().catch(() => undefined);
    await redis?.stop();
  });

  it("does not spin: its event loop keeps running; it starts once Redis lets it in", async () => {
    redis = await startRedis(["--maxclients", "1"]);
    const url = redis.url;
    // The one client Redis accepts: this test's (retried, the start probe's client may still be closing).
    await waitFor(
      async () => {
        const c: RedisClientType = createClient({ url, socket: { reconnectStrategy: false } });
        c.on("error", () => undefined);
        try {
          await c.connect();
          await c.ping();
          holder = c;
          return true;
        } catch {
          await c.close().catch(() => undefined);
          return false;
        }
      },
      10_000,
      "the test's client to hold Redis's only slot",
    );
    const reports: Report[] = [];
    child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", "test/support/unready-consumer.ts"], {
      cwd: ROOT,
      env: {
        ...process.env,
        NODE_ENV: "test",
        REDIS_URL: url,
        CREDITMETER_QUEUE: `start-${randomUUID()}`,
        CREDITMETER_KEY_PREFIX: `t-${randomUUID()}`,
      },
      stdio: ["ignore", "pipe", "ignore"],
    });
    const proc = child;
    if (!proc.stdout) throw new Error("no stdout");
    createInterface({ input: proc.stdout }).on("line", (line) => reports.push(JSON.parse(line) as Report));

    // Refusals are counted from the first report on: loading the sources (seconds on a loaded
    // machine) does not dilute the rate.
    await waitFor(() => reports.length > 0, 60_000, "a first report from the consumer process");
    const refusedBefore = await refusedConnections(holder);
    const countedSince = performance.now();

    // Loading the sources takes seconds on a loaded machine; after that a report comes every 500 ms
    // unless the process spins (a loop of failing fetches starves its timers: no report at all).
    await waitFor(
      () => (reports.at(-1)?.wallMs ?? 0) >= 6000,
      60_000,
      "6 s of reports from the consumer process (none: it spins)",
    );
    const last = reports.at(-1);
    if (!last) throw new Error("no reports");
    expect(last.running).toBe(false);
    // The spin this guards against starves the event loop: reports stop, or come late.
    for (let i = 1; i < reports.length; i++)
      expect((reports[i]?.wallMs ?? 0) - (reports[i - 1]?.wallMs ?? 0)).toBeLessThan(2000);
    // Nor may it reconnect in a storm to the refusing Redis, which costs CPU. Measured with the
    // storm (node-redis reconnecting at once to a socket that looked ready: redis-factory.ts):
    // ~0.85 core and ~120 refused connections a second on a quiet machine; with three busy loops
    // competing it got 0.3-0.6 core but still made 40-110 refusals a second. Without it: ~0.01
    // core, ~2 refusals a second (each client backs off to one try per 2 s). So two bounds: CPU
    // time (not wall time, which load inflates) over the last 5 s of reports, and the refusal rate,
    // which load cannot hide.
    const from = reports.find((r) => r.wallMs >= last.wallMs - 5000);
    if (!from || from === last) throw new Error("no report 5 s before the last");
    const cores = (last.cpuMs - from.cpuMs) / (last.wallMs - from.wallMs);
    expect(cores).toBeLessThan(0.15);
    const refused = (await refusedConnections(holder)) - refusedBefore;
    const refusedPerSecond = refused / ((performance.now() - countedSince) / 1000);
    expect(refused).toBeGreaterThan(0); // it does keep trying
    expect(refusedPerSecond).toBeLessThan(12);

    await holder?.configSet("maxclients", "1000");
    await waitFor(() => reports.at(-1)?.running === true, 30_000, "the consumer to run once Redis accepts it");
  }, 120_000);
});
