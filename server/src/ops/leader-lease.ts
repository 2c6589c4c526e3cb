import type { RedisClientType, RedisClusterType } from "redis";

// KEYS[1] the lease; ARGV[1] this node's id; ARGV[2] time-to-live (ms).
// Takes the lease when free or renews it when held by ARGV[1]. Returns 1 when ARGV[1] holds it.
const CLAIM = `
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0`;

// KEYS[1] the lease; ARGV[1] this node's id. Deletes the lease only if ARGV[1] holds it.
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** A Redis lease naming the one node that emits /ops figures. */
export interface LeaderLease {
  /** Takes or renews the lease; true while this node holds it. */
  claim(): Promise<boolean>;
  /** Gives the lease up (shutdown), so another node takes over at its next claim. */
  release(): Promise<void>;
}

/** A lease on `key` for `nodeId`, lasting `ttlMs` unless renewed. */
export function leaderLease(redis: RedisClientType | RedisClusterType, key: string, nodeId: string, ttlMs: number): LeaderLease {
  return {
    async claim() {
      const reply = await redis.eval(CLAIM, { keys: [key], arguments: [nodeId, String(ttlMs)] });
      return reply === 1;
    },
    async release() {
      await redis.eval(RELEASE, { keys: [key], arguments: [nodeId] });
    },
  };
}
