import { createAdapter, createShardedAdapter } from "@socket.io/redis-adapter";
import calculateSlot from "cluster-key-slot";
import type { RedisClusterType } from "redis";
import { isCluster, type AppRedis } from "../redis/redis-client.js";
import { OwnEchoes } from "./own-echoes.js";

/** The adapter factory Socket.IO takes, plus what it needs at shutdown. */
export interface RedisAdapterHandle {
  adapter: ReturnType<typeof createShardedAdapter> | ReturnType<typeof createAdapter>;
  /**
   * Resolves once every subscription queued so far on the subscriber is live in Redis: commands
   * on one connection run in order, so a fresh SSUBSCRIBE/SUBSCRIBE answered means the room
   * subscriptions before it are in place. Awaited between joining a room and reading its snapshot,
   * so an update published in between cannot fall through the gap.
   */
  barrier(): Promise<void>;
  /** This node's broadcasts heard back, dropped before the adapter parses them (sharded only): add each namespace's adapter. */
  echoes: OwnEchoes;
  close(): Promise<void>;
}

async function redisMajorVersion(redis: AppRedis): Promise<number> {
  const info = await redis.info("server");
  const match = /redis_version:(\d+)/.exec(info);
  return match?.[1] ? Number(match[1]) : 0;
}

/**
 * One channel per cluster master, each hashing (by its `{tag}`) to a slot that master owns: a
 * sharded subscription goes to the owning master's own connection, so a barrier has to pass
 * through every master's connection to cover a room subscription on any of them.
 */
function barrierChannels(sub: RedisClusterType, base: string): string[] {
  const byMaster = new Map<string, string>();
  const masters = new Set(sub.masters.map((m) => m.address));
  for (let tag = 0; byMaster.size < masters.size && tag < 100_000; tag++) {
    const channel = `${base}{${tag}}`;
    const address = sub.slots[calculateSlot(channel)]?.master.address;
    if (address !== undefined && !byMaster.has(address)) byMaster.set(address, channel);
  }
  return [...byMaster.values()];
}

/**
 * Connects the pub/sub clients (duplicates of `redis`) and builds the cross-node adapter:
 * sharded Pub/Sub (one channel per room, so a node only hears rooms it has members in) on
 * Redis 7+, classic Pub/Sub before. Channels are prefixed with the key prefix so servers of
 * different deployments (or tests) on one Redis never hear each other.
 */
export async function connectRedisAdapter(
  redis: AppRedis,
  keyPrefix: string,
  onError: (err: Error) => void,
): Promise<RedisAdapterHandle> {
  const pub = redis.duplicate();
  const sub = redis.duplicate();
  pub.on("error", onError);
  sub.on("error", onError);
  await Promise.all([pub.connect(), sub.connect()]);
  const sharded = (await redisMajorVersion(redis)) >= 7;
  // Classic Pub/Sub on a cluster sends every message to every node; only sharded scales there.
  if (isCluster(redis) && !sharded)
    throw new Error("REDIS_CLUSTER_NODES: Redis Cluster needs Redis 7 or later (sharded Pub/Sub)");
  const channelPrefix = `${keyPrefix}:sio`;
  const echoes = new OwnEchoes();
  const adapter = sharded
    ? createShardedAdapter(pub, echoes.subscriber(sub), { channelPrefix, subscriptionMode: "dynamic" })
    : createAdapter(pub, sub, { key: channelPrefix });
  let n = 0;
  const noop = (): void => undefined;
  if (isCluster(sub)) {
    // node-redis gives each master its own sharded pub/sub connection, opens it on the first
    // SSUBSCRIBE and destroys it when an SUNSUBSCRIBE leaves it with no channel. Barriers taken at
    // once (panels connecting together) then raced: one barrier's SUNSUBSCRIBE destroyed the
    // connection another's SSUBSCRIBE was queued on ("The client is closed"), and a room joined at
    // that moment lost its subscription. One channel per master, subscribed for the adapter's
    // lifetime, keeps every master's connection open (test/cluster/sharded-barrier.test.ts).
    await Promise.all(barrierChannels(sub, `${channelPrefix}#keep#`).map((c) => sub.sSubscribe(c, noop)));
  }
  return {
    adapter,
    echoes,
    async barrier() {
      n += 1;
      const channel = `${channelPrefix}#barrier#${n}`;
      if (isCluster(sub)) {
        await Promise.all(
          barrierChannels(sub, channel).map(async (c) => {
            await sub.sSubscribe(c, noop);
            await sub.sUnsubscribe(c, noop);
          }),
        );
      } else if (sharded) {
        await sub.sSubscribe(channel, noop);
        await sub.sUnsubscribe(channel, noop);
      } else {
        await sub.subscribe(channel, noop);
        await sub.unsubscribe(channel, noop);
      }
    },
    async close() {
      await Promise.allSettled([pub.close(), sub.close()]);
    },
  };
}
