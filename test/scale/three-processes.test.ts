import { randomUUID } from "node:crypto";
import { Queue, createNodeRedisClient } from "bullmq";
import { createClient, type RedisClientType } from "redis";
import { afterAll, beforeAll, describe, expect, it, inject } from "vitest";
import { loadConfig } from "../../server/src/config/config.js";
import { RedisLedger } from "../../server/src/ledger/redis-ledger.js";
import { spawnLoopbackServer, type LoopbackServer } from "../support/server-process.js";
import { roundRobinProxy, type RoundRobinProxy } from "../realtime/tcp-proxy.js";
import { runLiveScenario } from "./live-scenario.js";
import { readMetric } from "./metrics-probe.js";
import { enqueueEvents, isDrained } from "../support/queue.js";

const SECRET = "scale-test-secret-0123456789";

// Three real server processes, each consuming and serving panels, behind a round-robin TCP proxy
// (no sticky routing; the SDK speaks websocket only). Work is shared, every panel ends exact.
describe("three server processes without sticky routing", () => {
  const servers: LoopbackServer[] = [];
  const ports: number[] = [];
  let proxy: RoundRobinProxy;
  let redis: RedisClientType;
  let queue: Queue;
  let ledger: RedisLedger;

  beforeAll(async () => {
    const env = {
      REDIS_URL: inject("redisUrl"),
      CREDITMETER_AUTH_SECRET: SECRET,
      CREDITMETER_KEY_PREFIX: `t-${randomUUID()}`,
      CREDITMETER_QUEUE: `q-${randomUUID()}`,
      CREDITMETER_METRICS_PUBLIC: "true",
      // Small per-process concurrency, so one process cannot take every job before the others poll.
      CREDITMETER_CONCURRENCY: "4",
    };
    for (let i = 0; i < 3; i++) {
      servers.push(await spawnLoopbackServer(env));
    }
    const config = loadConfig(env);
    redis = createClient({ url: inject("redisUrl") });
    redis.on("error", () => undefined);
    await redis.connect();
    queue = new Queue(config.queueName, {
      connection: createNodeRedisClient(redis.duplicate()),
      prefix: config.queuePrefix,
    });
    ledger = RedisLedger.fromConfig(redis, config);
    // Each says its port once listening (PORT=0): ready first, then the proxy in front of them.
    for (const server of servers) await server.ready();
    ports.push(...servers.map((server) => server.port));
    proxy = await roundRobinProxy(ports);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.kill("SIGTERM")));
    await proxy?.close();
    await queue?.obliterate({ force: true });
    await queue?.close();
    await redis?.close();
  });

  it("shares the events among the three, and every panel on any of them ends exact", async () => {
    const socketsPerProcess: number[] = [];
    const report = await runLiveScenario(
      {
        url: `http://127.0.0.1:${proxy.port}`,
        secret: SECRET,
        ledger,
        enqueue: (events) => enqueueEvents(queue, events),
        drained: () => isDrained(queue),
      },
      {
        accounts: ["scale-a", "scale-b", "scale-c", "scale-d"],
        scarce: "scale-scarce",
        sessionsPerAccount: 3,
        stepsPerSession: 12,
        panelsPerAccount: 3,
        httpEvery: 10,
        tag: `sc-${randomUUID().slice(0, 8)}`,
        seed: 17,
        onPanelsConnected: async () => {
          for (const port of ports) socketsPerProcess.push(await readMetric(port, "creditmeter_sockets_connected"));
        },
      },
    );
    // Panels of one account landed on different processes (round robin), so an update applied
    // by one process reached panels held by the others.
    expect(socketsPerProcess.reduce((a, b) => a + b, 0)).toBe(report.panels);
    for (const n of socketsPerProcess) expect(n).toBeGreaterThan(0);
    // Every process consumed a share; together exactly one application per event.
    const applied = await Promise.all(ports.map((port) => readMetric(port, "creditmeter_events_total")));
    for (const n of applied) expect(n).toBeGreaterThan(0);
    expect(applied.reduce((a, b) => a + b, 0)).toBe(report.events);
    expect((await queue.getJobCounts("failed")).failed).toBe(0);
  });
});
