import type { RedisClientType, RedisClusterType } from "redis";

/**
 * The node-redis client every room of the server is given: one connection to a single Redis
 * (REDIS_URL) or a cluster client (REDIS_CLUSTER_NODES). Keys of one account share a hash slot
 * and the queue lives in the `{creditmeter}` slot, so each command and script touches one slot
 * and the cluster client routes it by its first key.
 */
export type AppRedis = RedisClientType | RedisClusterType;

/** True for a node-redis cluster client (it knows its masters; a single-node client does not). */
export function isCluster(redis: AppRedis): redis is RedisClusterType {
  return "masters" in redis;
}

/** True when commands can be sent now: the client is ready, or every cluster master's is. */
export function redisReady(redis: AppRedis): boolean {
  if (!isCluster(redis)) return redis.isReady;
  return redis.isOpen && redis.masters.length > 0 && redis.masters.every((m) => m.client?.isReady === true);
}

/** A loopback-or-remote cluster node as configured (REDIS_CLUSTER_NODES) or discovered. */
export interface ClusterNode {
  host: string;
  port: number;
}

/** The cluster's current masters, for clients of other libraries that need a seed list. */
export function clusterMasters(redis: RedisClusterType): ClusterNode[] {
  return redis.masters.map((m) => ({ host: m.host, port: m.port }));
}
