import type { RedisClientType, RedisClusterType } from "redis";
import { isCluster, type AppRedis } from "../redis/redis-client.js";

/**
 * The accounts whose audit trail may have entries not yet archived: a sorted set scored by when
 * an account was first noted (oldest first), written by the ledger after its scripts (a hint,
 * like the deadlines index) and emptied by the archiver. Not written by the Lua scripts: on a
 * Redis Cluster this key lives in another slot than the account's, and a script touches one slot.
 */
export function pendingKey(namespace: string): string {
  return `${namespace}:history:pending`;
}

/** Notes accounts as having new entries; an account already noted keeps its older score. */
export async function notePending(
  redis: AppRedis,
  namespace: string,
  accountIds: string[],
  now = Date.now(),
): Promise<void> {
  if (accountIds.length === 0) return;
  await redis.zAdd(
    pendingKey(namespace),
    accountIds.map((value) => ({ score: now, value })),
    { condition: "NX" },
  );
}

/** The accounts noted longest ago, oldest first. */
export async function pendingAccounts(redis: AppRedis, namespace: string, limit: number): Promise<string[]> {
  return redis.zRange(pendingKey(namespace), 0, limit - 1);
}

/** Moves a still-noted account behind the others (its archive failed); one already dropped stays dropped. */
export async function requeuePending(
  redis: AppRedis,
  namespace: string,
  accountId: string,
  now = Date.now(),
): Promise<void> {
  await redis.zAdd(pendingKey(namespace), { score: now, value: accountId }, { condition: "XX" });
}

/** Drops an account from the set (the caller re-checks its trail afterwards, see archiver.ts). */
export async function clearPending(redis: AppRedis, namespace: string, accountId: string): Promise<void> {
  await redis.zRem(pendingKey(namespace), accountId);
}

/**
 * A client of every master the cluster has now. node-redis re-reads the cluster's map only on a
 * MOVED or ASK reply, so a client that has touched none of the slots moved since masters were
 * added knows only the old ones: its SCAN would miss every trail on the new, and a hint lost for
 * one of them would never be archived (test/cluster/archiver-cluster.test.ts). Re-read the map
 * first (`_slots.rediscover`, what node-redis itself runs on MOVED; one CLUSTER SLOTS per scan).
 */
async function currentMasters(redis: RedisClusterType): Promise<RedisClientType[]> {
  const [first] = redis.masters;
  if (first) await redis._slots.rediscover(await redis.nodeClient(first));
  return Promise.all(redis.masters.map((m) => redis.nodeClient(m)));
}

/**
 * Every account that has an audit trail, found by SCAN (on each master of a cluster): the
 * backstop for a hint lost when a process died between its script and the hint. The account id
 * is what lies between the `{…}` hash tag of `<namespace>:{<accountId>}:log`.
 */
export async function* accountsWithTrail(redis: AppRedis, namespace: string): AsyncGenerator<string[]> {
  const match = `${namespace.replace(/[*?[\]\\]/g, "\\$&")}:{*}:log`;
  const prefix = `${namespace}:{`;
  const idOf = (key: string): string => key.slice(prefix.length, key.length - "}:log".length);
  const nodes = isCluster(redis) ? await currentMasters(redis) : [redis];
  for (const node of nodes) {
    for await (const keys of node.scanIterator({ MATCH: match, TYPE: "stream", COUNT: 1000 })) {
      if (keys.length > 0) yield keys.map(idOf);
    }
  }
}
