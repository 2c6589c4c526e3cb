import { randomUUID } from "node:crypto";
import calculateSlot from "cluster-key-slot";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RedisClusterType } from "redis";
import { loadConfig, type Config } from "../../server/src/config/config.js";
import { createRedis } from "../../server/src/app/redis-factory.js";
import { bullmqConnection } from "../../server/src/metering/bullmq-connection.js";
import { RedisLedger } from "../../server/src/ledger/redis-ledger.js";
import { isCluster } from "../../server/src/redis/redis-client.js";
import { spawnLoopbackServer, type LoopbackServer } from "../support/server-process.js";
import { runLiveScenario } from "../scale/live-scenario.js";
import { clusterUnsupported, startCluster, type TestCluster } from "./redis-cluster.js";
import { enqueueEvents, isDrained } from "../support/queue.js";

const SECRET = "cluster-test-secret-0123456789";
const unsupported = clusterUnsupported();

/** The master (host:port) that owns the slot of `key`. */
function ownerOf(redis: RedisClusterType, key: string): string {
  const owner = redis.slots[calculateSlot(key)]?.master.address;
  if (!owner) throw new Error(`no master owns the slot of ${key}`);
  return owner;
}

/** Every key matching `pattern`, per master address (SCAN on each master). */
async function keysByMaster(redis: RedisClusterType, pattern: string): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>();
  for (const master of redis.masters) {
    const client = await redis.nodeClient(master);
    const keys: string[] = [];
    for await (const batch of client.scanIterator({ MATCH: pattern, COUNT: 1000 })) keys.push(...batch);
    found.set(master.address, keys);
  }
  return found;
}

// The whole core and live scenario on a 3-master Redis Cluster started by the test: a real server
// process with REDIS_CLUSTER_NODES, accounts spread over the masters, panels through the SDK.
describe.skipIf(unsupported !== null)(`Redis Cluster${unsupported ? ` (skipped: ${unsupported})` : ""}`, () => {
  let cluster: TestCluster;
  let server: LoopbackServer;
  let redis: RedisClusterType;
  let queue: Queue;
  let config: Config;
  let url = "";

  beforeAll(async () => {
    cluster = await startCluster();
    const env = {
      REDIS_CLUSTER_NODES: cluster.nodes,
      CREDITMETER_AUTH_SECRET: SECRET,
      CREDITMETER_KEY_PREFIX: `t-${randomUUID()}`,
      CREDITMETER_QUEUE: `q-${randomUUID()}`,
    };
    config = loadConfig(env);
    server = await spawnLoopbackServer(env);
    const client = createRedis(config, () => undefined);
    if (!isCluster(client)) throw new Error("REDIS_CLUSTER_NODES did not give a cluster client");
    redis = client;
    await redis.connect();
    queue = new Queue(config.queueName, {
      connection: bullmqConnection(redis, () => undefined),
      prefix: config.queuePrefix,
    });
    await server.ready();
    url = server.url;
  }, 120_000);

  afterAll(async () => {
    await server?.kill("SIGTERM");
    await queue?.obliterate({ force: true });
    await queue?.close();
    await redis?.close();
    await cluster?.stop();
  });

  it("meters exactly and pushes to every panel, each account in one slot and the queue in one slot", async () => {
    // Two accounts per master, so every master holds ledgers and serves sharded room channels.
    const perMaster = new Map<string, string[]>();
    for (let i = 0; [...perMaster.values()].flat().length < 6 && i < 1000; i++) {
      const id = `acct-${i}`;
      const owner = ownerOf(redis, `{${id}}`);
      const list = perMaster.get(owner) ?? [];
      if (list.length < 2) perMaster.set(owner, [...list, id]);
    }
    const accounts = [...perMaster.values()].flat();
    expect(perMaster.size).toBe(3);
    const ledger = RedisLedger.fromConfig(redis, config);

    const report = await runLiveScenario(
      {
        url,
        secret: SECRET,
        ledger,
        enqueue: (events) => enqueueEvents(queue, events),
        drained: () => isDrained(queue),
      },
      {
        accounts,
        scarce: "acct-scarce",
        sessionsPerAccount: 3,
        stepsPerSession: 12,
        panelsPerAccount: 2,
        httpEvery: 10,
        tag: `cl-${randomUUID().slice(0, 8)}`,
        seed: 11,
      },
    );
    expect(report.events).toBeGreaterThan(300);
    expect(report.viaHttp).toBeGreaterThan(30);
    expect(report.denials).toBe(2 * 3);
    expect((await queue.getJobCounts("failed")).failed).toBe(0);

    // Raw keys: each account's keys all on the master owning its slot, the queue's on one master.
    for (const accountId of accounts) {
      const byMaster = await keysByMaster(redis, `${config.keyPrefix}:{${accountId}}:*`);
      const holders = [...byMaster].filter(([, keys]) => keys.length > 0).map(([address]) => address);
      expect(holders, accountId).toEqual([ownerOf(redis, `{${accountId}}`)]);
    }
    const queueKeys = await keysByMaster(redis, `${config.queuePrefix}:${config.queueName}:*`);
    const queueHolders = [...queueKeys].filter(([, keys]) => keys.length > 0).map(([address]) => address);
    expect(queueHolders).toEqual([ownerOf(redis, config.queuePrefix)]);
  });
});
