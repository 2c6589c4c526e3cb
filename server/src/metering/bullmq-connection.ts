import { createNodeRedisClient, type ConnectionOptions } from "bullmq";
import { Cluster } from "ioredis";
import type { RedisClientType, RedisClusterType } from "redis";
import { clusterMasters, isCluster, type AppRedis } from "../redis/redis-client.js";

interface NodeRedisAdapter {
  scripts: Map<string, { lua: string }>;
  raw: RedisClientType;
  on(event: "error", listener: (err: Error) => void): unknown;
  duplicate(...args: unknown[]): unknown;
}

function isAdapter(value: unknown): value is NodeRedisAdapter {
  return (
    typeof value === "object" &&
    value !== null &&
    "scripts" in value &&
    value.scripts instanceof Map &&
    "raw" in value &&
    typeof value.raw === "object" &&
    "duplicate" in value &&
    typeof value.duplicate === "function"
  );
}

/** Loads every script again, retrying while Redis is still loading its data set after a restart. */
async function reloadScripts(adapter: NodeRedisAdapter, onError: (err: Error) => void): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
    try {
      await Promise.all([...adapter.scripts.values()].map(({ lua }) => adapter.raw.scriptLoad(lua)));
      return;
    } catch (err) {
      // Dropped again: the next 'ready' reloads (a retry here would pile up behind a flapping connection).
      if (!adapter.raw.isReady) return;
      if (Date.now() > deadline) return onError(err instanceof Error ? err : new Error(String(err)));
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/** Hooks an adapter (and every duplicate BullMQ makes of it) for errors and script reloads. */
function instrument(adapter: unknown, onError: (err: Error) => void): void {
  if (!isAdapter(adapter)) return;
  adapter.on("error", onError);
  adapter.raw.on("error", onError);
  let connectedBefore = adapter.raw.isReady;
  // One reload at a time: a connection that comes up again while one runs gets one more after it,
  // not a loop of its own per 'ready' (they piled up, each retrying for a minute).
  let reloading = false;
  let reloadAgain = false;
  const reload = (): void => {
    if (reloading) {
      reloadAgain = true;
      return;
    }
    reloading = true;
    void reloadScripts(adapter, onError).finally(() => {
      reloading = false;
      if (!reloadAgain) return;
      reloadAgain = false;
      reload();
    });
  };
  adapter.raw.on("ready", () => {
    if (connectedBefore) reload();
    connectedBefore = true;
  });
  // Workers duplicate their connection (the main and the blocking one): hook the copies too.
  const duplicate = adapter.duplicate.bind(adapter);
  adapter.duplicate = (...args: unknown[]) => {
    const copy = duplicate(...args);
    instrument(copy, onError);
    return copy;
  };
}

/**
 * A BullMQ connection on its own node-redis client that survives a Redis restart.
 *
 * BullMQ 6's node-redis adapter loads its Lua scripts once; after a restart Redis has no
 * scripts and every EVALSHA inside a MULTI (addBulk, ...) fails with NOSCRIPT, which the
 * adapter does not retry (measured: test/faults/redis-restart.test.ts). So on every reconnect
 * the scripts are loaded again — retried, because a Redis restarting from its AOF answers
 * LOADING for a while after it accepts connections. The duplicates BullMQ makes get the same
 * hooks, and errors go to `onError` instead of crashing the process.
 */
function singleNodeConnection(redis: RedisClientType, onError: (err: Error) => void): ConnectionOptions {
  const connection = createNodeRedisClient(redis.duplicate());
  instrument(connection, onError);
  return connection;
}

/**
 * On a Redis Cluster BullMQ gets an ioredis Cluster seeded with the node-redis client's masters.
 * BullMQ 6.7's node-redis adapter has no cluster support (`isCluster = false`): measured, a
 * Queue on a node-redis cluster client never finishes `add` (the cluster client has no
 * `isReady`, so the adapter waits for a ready event that never comes), and with that patched a
 * Worker fails every poll (docs/decisions.md "BullMQ on Redis Cluster"). ioredis is BullMQ's own
 * client; it is used here and nowhere else. The queue's keys share the `{creditmeter}` slot.
 */
function clusterConnection(redis: RedisClusterType, onError: (err: Error) => void): ConnectionOptions {
  // Credentials the node-redis cluster was built with (`defaults`) apply to every node here too.
  const defaults = redis._options.defaults;
  const cluster = new Cluster(clusterMasters(redis), {
    // Workers block on BZPOPMIN; BullMQ requires ioredis to retry such commands forever.
    redisOptions: { maxRetriesPerRequest: null, username: defaults?.username, password: defaults?.password },
    clusterRetryStrategy: (times) => Math.min(50 * 2 ** times, 2000),
  });
  cluster.on("error", onError);
  return cluster;
}

/** A fresh BullMQ connection for a Queue or Worker on the same Redis (single node or cluster) as `redis`. */
export function bullmqConnection(redis: AppRedis, onError: (err: Error) => void): ConnectionOptions {
  return isCluster(redis) ? clusterConnection(redis, onError) : singleNodeConnection(redis, onError);
}
