import { createClient, createCluster, type RedisClientType, type RedisClusterType } from "redis";
import type { Config } from "../config/config.js";
import type { AppRedis } from "../redis/redis-client.js";

// Back off up to 2 s between attempts: a restarted Redis is found again within a couple of seconds.
const reconnectStrategy = (retries: number): number => Math.min(50 * 2 ** retries, 2000);

// Named clients (CLIENT SETNAME in the handshake), so a refusal fails the handshake. With no
// handshake command node-redis calls a socket ready the moment TCP connects; a Redis that refuses
// clients (maxclients) answers with an error and closes, node-redis treats that as a ready
// connection lost and reconnects at once, retries counted from 0, so reconnectStrategy never
// delays: hundreds to thousands of connects a second, up to a core of CPU (test/faults/consumer-start.test.ts).
// A failed handshake goes through reconnectStrategy's backoff instead.
const CLIENT_NAME = "creditmeter";

/**
 * The server's node-redis client, not yet connected: a cluster client when REDIS_CLUSTER_NODES is
 * set (credentials in REDIS_URL, if any, apply to every node), else one client for REDIS_URL.
 * Errors go to `onError`; the client keeps reconnecting by itself.
 */
export function createRedis(config: Config, onError: (err: Error) => void): AppRedis {
  if (config.redisClusterNodes.length === 0) {
    // No CLIENT SETINFO in the handshake: on Redis < 7.2 it errors, and when a restarted Redis
    // answers LOADING during the handshake that error surfaced on BullMQ's blocking connection
    // and the worker stopped taking jobs (test/faults/redis-restart.test.ts, ~1 run in 5).
    const client: RedisClientType = createClient({
      url: config.redisUrl,
      socket: { reconnectStrategy },
      disableClientInfo: true,
      name: CLIENT_NAME,
    });
    client.on("error", onError);
    return client;
  }
  const url = new URL(config.redisUrl);
  const cluster: RedisClusterType = createCluster({
    rootNodes: config.redisClusterNodes.map(({ host, port }) => ({ socket: { host, port } })),
    defaults: {
      username: url.username ? decodeURIComponent(url.username) : undefined,
      password: url.password ? decodeURIComponent(url.password) : undefined,
      socket: { reconnectStrategy },
      disableClientInfo: true,
      name: CLIENT_NAME,
    },
  });
  cluster.on("error", onError);
  return cluster;
}
