import type { Config } from "../config/config.js";
import { isCluster, type AppRedis } from "../redis/redis-client.js";

/** REDIS_URL without its password, for a message an operator reads. */
function shown(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(unparsable)";
  }
}

/**
 * Connects the server's client and, in production, requires Redis to answer a PING within
 * `redisConnectTimeoutMs`, else throws naming REDIS_URL (CONTRACT §8 v1.1: there a Redis that does
 * not answer is an error, so that two processes never end up on two different ledgers). The PING
 * matters: a frozen Redis accepts the TCP connection and then answers nothing. Outside production
 * the start waits and retries as long as it takes (a developer may start Redis after the server).
 */
export async function connectRedisAtStart(
  redis: AppRedis,
  config: Pick<Config, "production" | "redisUrl" | "redisClusterNodes" | "redisConnectTimeoutMs">,
): Promise<void> {
  if (!config.production) {
    await redis.connect();
    return;
  }
  const ms = config.redisConnectTimeoutMs;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), ms);
  });
  const answered = (async (): Promise<"ok"> => {
    await redis.connect();
    // A cluster client's connect already waited for the nodes to answer CLUSTER SLOTS.
    if (!isCluster(redis)) await redis.ping();
    return "ok";
  })();
  // A connect that fails after the deadline has nobody to tell: the process is exiting anyway.
  answered.catch(() => undefined);
  try {
    if ((await Promise.race([answered, late])) === "ok") return;
  } finally {
    clearTimeout(timer);
  }
  const where =
    config.redisClusterNodes.length > 0
      ? `REDIS_CLUSTER_NODES (${config.redisClusterNodes.map((n) => `${n.host}:${n.port}`).join(",")})`
      : `REDIS_URL (${shown(config.redisUrl)})`;
  throw new Error(
    `Redis at ${where} did not answer within ${ms} ms (CREDITMETER_REDIS_CONNECT_TIMEOUT_MS); in production a Redis that does not answer is an error`,
  );
}
