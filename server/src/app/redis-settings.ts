import { isCluster, type AppRedis } from "../redis/redis-client.js";

/**
 * Advice when Redis frees expired keys in its main thread (`lazyfree-lazy-expire no`, Redis's
 * default): a busy account's idempotency generation (lib/idem.lua) is one hash of up to millions of
 * fields that expires as a whole, and freeing it there stalls every client for seconds (1.8 s
 * measured for a million fields, docs/ledger.md). Null when the setting is right, or when it cannot
 * be read (CONFIG is often disabled on managed Redis: their operators set it).
 */
export async function lazyExpiryAdvice(redis: AppRedis): Promise<string | null> {
  // On a cluster, every master should be set alike; the first one read stands for them.
  try {
    const master = isCluster(redis) ? redis.masters[0] : undefined;
    const client = isCluster(redis) ? master && (await redis.nodeClient(master)) : redis;
    if (!client) return null;
    const reply = await client.configGet("lazyfree-lazy-expire");
    if (reply["lazyfree-lazy-expire"] !== "no") return null;
  } catch {
    return null;
  }
  return "Redis has lazyfree-lazy-expire no: an expiring idempotency generation of a busy account is freed in Redis's main thread and stalls it; set lazyfree-lazy-expire yes (docs/reliability.md)";
}
