import { createNodeRedisClient } from "bullmq";
import type { RedisClientType } from "redis";

type BullConnection = ReturnType<typeof createNodeRedisClient>;

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
export function bullmqConnection(redis: RedisClientType, onError: (err: Error) => void): BullConnection {
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
