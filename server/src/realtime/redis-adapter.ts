import { createAdapter, createShardedAdapter } from "@socket.io/redis-adapter";
import type { RedisClientType } from "redis";

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
  close(): Promise<void>;
}

async function redisMajorVersion(redis: RedisClientType): Promise<number> {
  const info = await redis.info("server");
  const match = /redis_version:(\d+)/.exec(info);
  return match?.[1] ? Number(match[1]) : 0;
}

/**
 * Connects the pub/sub clients (duplicates of `redis`) and builds the cross-node adapter:
 * sharded Pub/Sub (one channel per room, so a node only hears rooms it has members in) on
 * Redis 7+, classic Pub/Sub before. Channels are prefixed with the key prefix so servers of
 * different deployments (or tests) on one Redis never hear each other.
 */
export async function connectRedisAdapter(redis: RedisClientType, keyPrefix: string, onError: (err: Error) => void): Promise<RedisAdapterHandle> {
  const pub = redis.duplicate();
  const sub = redis.duplicate();
  pub.on("error", onError);
  sub.on("error", onError);
  await Promise.all([pub.connect(), sub.connect()]);
  const sharded = (await redisMajorVersion(redis)) >= 7;
  const channelPrefix = `${keyPrefix}:sio`;
  const adapter = sharded
    ? createShardedAdapter(pub, sub, { channelPrefix, subscriptionMode: "dynamic" })
    : createAdapter(pub, sub, { key: channelPrefix });
  let n = 0;
  const noop = (): void => undefined;
  return {
    adapter,
    async barrier() {
      n += 1;
      const channel = `${channelPrefix}#barrier#${n}`;
      if (sharded) {
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
