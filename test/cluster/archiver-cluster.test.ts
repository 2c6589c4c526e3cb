// The history archiver on a Redis Cluster (issue 17, docs/history.md): the pending set lives in
// one slot, the trails in every slot; SCAN must visit every master to find a hint that was lost.
import { randomUUID } from "node:crypto";
import calculateSlot from "cluster-key-slot";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RedisClusterType } from "redis";
import { loadConfig } from "../../server/src/config/config.js";
import { createRedis } from "../../server/src/app/redis-factory.js";
import { RedisLedger } from "../../server/src/ledger/redis-ledger.js";
import { expandEntries } from "../../server/src/ledger/audit-entries.js";
import { isCluster } from "../../server/src/redis/redis-client.js";
import { startArchiver, type Archiver } from "../../server/src/history/archiver.js";
import { accountsWithTrail, notePending, pendingKey } from "../../server/src/history/pending.js";
import { createHistoryPool } from "../../server/src/history/database.js";
import { postgresAvailable, usePostgres } from "../support/use-postgres.js";
import { waitFor } from "../support/redis-server.js";
import { buildWorkload } from "../support/workload.js";
import { archivedIds, historyDatabase } from "../history/harness.js";
import { clusterUnsupported, startCluster, type TestCluster } from "./redis-cluster.js";
import { LEDGER_DEFAULTS } from "../support/ledger.js";

const unsupported = clusterUnsupported() ?? (postgresAvailable ? null : "no PostgreSQL (initdb) here");

async function clusterClient(cluster: TestCluster): Promise<RedisClusterType> {
  const client = createRedis(loadConfig({ REDIS_CLUSTER_NODES: cluster.nodes }), () => undefined);
  if (!isCluster(client)) throw new Error("REDIS_CLUSTER_NODES did not give a cluster client");
  await client.connect();
  return client;
}

/** A ledger on `redis` whose scripts note their accounts for the archiver while `hints()` says so. */
function clusterLedger(redis: RedisClusterType, namespace: string, hints: () => boolean = () => true): RedisLedger {
  return new RedisLedger({
    redis,
    namespace,
    ...LEDGER_DEFAULTS,
    onAudit: (ids) => {
      if (hints()) void notePending(redis, namespace, ids);
    },
  });
}

/** An account with a cycle and some charged work (`seed` varies the steps). */
async function charged(ledger: RedisLedger, ids: string[], seed: number): Promise<void> {
  for (const accountId of ids) {
    await ledger.putAccount(accountId, { plan: "pro" });
    await ledger.startCycle(accountId, {
      cycleId: "c1",
      credits: 1_000_000,
      start: new Date(Date.now() - 3_600_000).toISOString(),
      end: new Date(Date.now() + 30 * 86_400_000).toISOString(),
    });
  }
  const events = buildWorkload({
    accounts: ids,
    sessionsPerAccount: 2,
    stepsPerSession: 20,
    plan: "pro",
    seed,
    tag: `a${seed}`,
  }).events;
  for (let i = 0; i < events.length; i += 16) {
    for (const outcome of await ledger.applyEvents(events.slice(i, i + 16)))
      if (outcome instanceof Error) throw outcome;
  }
}

/** Every movement id of a trail (packed entries expanded), oldest first. */
async function trailIds(redis: RedisClusterType, log: string): Promise<string[]> {
  return expandEntries(await redis.xRange(log, "-", "+")).map((m) => m.id);
}

/** The master (host:port) owning `key`'s slot. */
function ownerOf(redis: RedisClusterType, key: string): string {
  const owner = redis.slots[calculateSlot(key)]?.master.address;
  if (!owner) throw new Error(`no master owns the slot of ${key}`);
  return owner;
}

describe.skipIf(unsupported !== null)(
  `archiver on a Redis Cluster${unsupported ? ` (skipped: ${unsupported})` : ""}`,
  () => {
    const postgres = usePostgres();
    let cluster: TestCluster;
    beforeAll(async () => {
      cluster = await startCluster();
    }, 60_000);
    afterAll(() => cluster?.stop());

    it("archives every account of every master exactly once, those whose hint was lost through SCAN", async () => {
      const redis = await clusterClient(cluster);
      const { url, pool } = await historyDatabase(postgres());
      const namespace = `t-${randomUUID()}`;
      let hints = true;
      // The server's hint; switched off for the accounts whose hint a crash "loses".
      const ledger = clusterLedger(redis, namespace, () => hints);
      // Accounts until every master owns at least three trails.
      const byMaster = new Map<string, string[]>(redis.masters.map((m) => [m.address, []]));
      for (let i = 0; [...byMaster.values()].some((ids) => ids.length < 3); i++) {
        const id = `acct-${i}`;
        byMaster.get(ownerOf(redis, ledger.keys(id).log))?.push(id);
      }
      const accounts = [...byMaster.values()].flat();
      // One account per master is written with no hint at all: only the SCAN backstop finds it.
      const lost = [...byMaster.values()].map((ids) => ids[0] ?? "");
      expect(new Set(lost.map((id) => ownerOf(redis, ledger.keys(id).log))).size).toBe(3);
      hints = false;
      await charged(ledger, lost, 1);
      hints = true;
      await charged(
        ledger,
        accounts.filter((id) => !lost.includes(id)),
        2,
      );
      // The hints reached the one pending set (one slot) from every master's accounts, the lost ones excepted.
      await waitFor(
        async () => (await redis.zCard(pendingKey(namespace))) === accounts.length - lost.length,
        5000,
        "the hints of the noted accounts",
      );

      // Two archivers at once (two processes' worth: own pools and cluster clients): leases keep
      // them off each other's accounts; a scan at start finds the unnoted ones.
      const errors: unknown[] = [];
      const other = await clusterClient(cluster);
      const otherPool = createHistoryPool(url, () => undefined);
      const archivers: Archiver[] = [
        { pool, redis },
        { pool: otherPool, redis: other },
      ].map((o) => startArchiver({ ...o, namespace, intervalMs: 50, batch: 100, onError: (err) => errors.push(err) }));
      try {
        await waitFor(
          async () => {
            for (const id of accounts) {
              if ((await archivedIds(pool, id)).length !== (await trailIds(redis, ledger.keys(id).log)).length)
                return false;
            }
            return (await redis.zCard(pendingKey(namespace))) === 0;
          },
          30_000,
          "every account archived and the pending set empty",
        ).catch(async (err: unknown) => {
          const behind: string[] = [];
          for (const id of accounts) {
            const [a, t] = [(await archivedIds(pool, id)).length, (await trailIds(redis, ledger.keys(id).log)).length];
            if (a !== t) behind.push(`${id} ${a}/${t}${lost.includes(id) ? " (lost hint)" : ""}`);
          }
          const pending = await redis.zRange(pendingKey(namespace), 0, -1);
          throw new Error(
            `${String(err)}; behind: ${behind.join(", ")}; pending: ${pending.join(", ")}; errors: ${errors.map(String).join("; ")}`,
          );
        });
      } finally {
        await Promise.all(archivers.map((a) => a.stop()));
      }
      expect(errors).toEqual([]);
      for (const id of accounts) {
        // Exactly once: the same ids, in order, no more (the primary key forbids duplicates).
        expect(await archivedIds(pool, id)).toEqual(await trailIds(redis, ledger.keys(id).log));
      }
      // The rollup counted each charge once, whichever archiver copied it.
      const { rows } = await pool.query<{ bad: string }>(
        `SELECT count(*)::text AS bad FROM (
         SELECT account_id, sum(amount) AS c FROM ledger_entries WHERE kind = 'charge' GROUP BY 1
       ) e FULL JOIN (
         SELECT account_id, sum(credits) AS c FROM usage_rollup WHERE dim = 'session' GROUP BY 1
       ) r USING (account_id) WHERE e.c IS DISTINCT FROM r.c`,
      );
      expect(rows[0]?.bad).toBe("0");
      await otherPool.end();
      await other.close();
      await pool.end();
      await redis.close();
    }, 90_000);

    // Last: it adds a master to the cluster the other test used.
    it("finds trails on a master added after the archiver's client connected (SCAN asks the cluster, not its stale map)", async () => {
      const namespace = `t-${randomUUID()}`;
      // An archiving process's client that learned the topology before the cluster grew, and has
      // touched none of the slots that move since (node-redis only re-reads the map on MOVED/ASK).
      const stale = await clusterClient(cluster);
      const before = await clusterClient(cluster);
      const early = Array.from({ length: 24 }, (_, i) => `early-${i}`);
      await charged(
        clusterLedger(before, namespace, () => false),
        early,
        3,
      );
      await cluster.addMaster(4096);
      // Written with no hint after the scale-out, by a client that knows the new master.
      const fresh = await clusterClient(cluster);
      const added = `127.0.0.1:${cluster.ports.at(-1) ?? 0}`;
      expect(fresh.masters.map((m) => m.address)).toContain(added);
      const late: string[] = [];
      for (let i = 0; late.length < 3; i++) {
        const id = `late-${i}`;
        if (ownerOf(fresh, `${namespace}:{${id}}:log`) === added) late.push(id);
      }
      await charged(
        clusterLedger(fresh, namespace, () => false),
        late,
        4,
      );
      const moved = early.filter((id) => ownerOf(fresh, `${namespace}:{${id}}:log`) === added);
      expect(moved.length).toBeGreaterThan(0);
      expect(stale.masters).toHaveLength(3);

      const found: string[] = [];
      for await (const ids of accountsWithTrail(stale, namespace)) found.push(...ids);
      expect(found.sort()).toEqual([...early, ...late].sort());

      // And the archiver on that client copies them all.
      const { pool } = await historyDatabase(postgres());
      const archiver = startArchiver({ pool, redis: stale, namespace, intervalMs: 50, onError: () => undefined });
      try {
        await waitFor(
          async () => {
            for (const id of [...early, ...late]) {
              const trail = await trailIds(fresh, `${namespace}:{${id}}:log`);
              if ((await archivedIds(pool, id)).length !== trail.length) return false;
            }
            return true;
          },
          30_000,
          "every trail, on the new master too, archived",
        );
      } finally {
        await archiver.stop();
      }
      // The wait compared counts only (an empty trail archives as 0/0): every trail has movements,
      // archived exactly, ids in order.
      for (const id of [...early, ...late]) {
        const trail = await trailIds(fresh, `${namespace}:{${id}}:log`);
        expect(trail.length, id).toBeGreaterThan(0);
        expect(await archivedIds(pool, id)).toEqual(trail);
      }
      await pool.end();
      await Promise.all([stale, before, fresh].map((c) => c.close()));
    }, 120_000);
  },
);
