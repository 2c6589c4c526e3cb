import { createNodeRedisClient, type ConnectionOptions } from "bullmq";
import { Cluster } from "ioredis";
import type { RedisClientType, RedisClusterType } from "redis";
import { clusterMasters, isCluster, type AppRedis } from "../redis/redis-client.js";

interface ScriptHolder {
  scripts: Map<string, { lua: string }>;
}

function holdsScripts(value: unknown): value is ScriptHolder {
  return typeof value === "object" && value !== null && "scripts" in value && value.scripts instanceof Map;
}

/**
 * A BullMQ connection on its own node-redis client that survives a Redis restart.
 *
 * BullMQ 6's node-redis adapter loads its Lua scripts once; after a restart Redis has no
 * scripts and every EVALSHA inside a MULTI (addBulk, ...) fails with NOSCRIPT, which the
 * adapter does not retry (measured: test/faults/redis-restart.test.ts). So on every reconnect
 * the scripts are loaded again. Errors go to `onError` instead of crashing the process.
 */
function singleNodeConnection(redis: RedisClientType, onError: (err: Error) => void): ConnectionOptions {
  const raw = redis.duplicate();
  raw.on("error", onError);
  const connection = createNodeRedisClient(raw);
  connection.on("error", onError);
  let connectedBefore = false;
  raw.on("ready", () => {
    if (!connectedBefore) {
      connectedBefore = true;
      return;
    }
    if (!holdsScripts(connection)) return;
    for (const { lua } of connection.scripts.values()) raw.scriptLoad(lua).catch(onError);
  });
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
