import { describe, expect, it } from "vitest";
import { inject } from "vitest";
import { waitFor } from "../support/redis-server.js";
import { prng } from "../support/workload.js";
import { postgresAvailable, usePostgres } from "../support/use-postgres.js";
import {
  archivedIds,
  archivedLedger,
  caughtUp,
  historyDatabase,
  seedWorkload,
  spawnArchiver,
  trailIds,
} from "./harness.js";
import { pendingKey } from "../../server/src/history/pending.js";

describe.skipIf(!postgresAvailable)("archiving survives SIGKILL and a PostgreSQL restart", () => {
  const postgres = usePostgres();

  it("copies every entry exactly once, with no gap, while pairs of archivers are killed and PostgreSQL crashes mid-stream", async () => {
    const { url, pool } = await historyDatabase(postgres());
    const { ledger, redis, namespace } = await archivedLedger();
    const accounts = ["crash-a", "crash-b", "crash-c"];
    const events = await seedWorkload(ledger, accounts, 12, 17);
    const rand = prng(4242);
    let written = 0;
    // The ledger keeps writing the whole time (batches of up to 8 events, as the consumer does).
    const writer = (async () => {
      for (let i = 0; i < events.length; i += 8) {
        await ledger.applyEvents(events.slice(i, i + 8));
        written = i + 8;
        await new Promise((r) => setTimeout(r, 5 + rand() * 20));
      }
    })();
    try {
      // Two archiving processes at a time (their leases keep them off each other's accounts),
      // each SIGKILLed at its own random moment, six rounds.
      for (let round = 0; round < 6; round++) {
        const pair = [
          spawnArchiver(inject("redisUrl"), url, namespace),
          spawnArchiver(inject("redisUrl"), url, namespace),
        ];
        await Promise.all(pair.map((c) => c.ready));
        if (round === 3) {
          // PostgreSQL crashes (immediate: no shutdown checkpoint) under running archivers and comes back.
          await new Promise((r) => setTimeout(r, 100 + rand() * 300));
          postgres().stopServer("immediate");
          await new Promise((r) => setTimeout(r, 300));
          postgres().startServer();
        }
        for (const child of pair) {
          await new Promise((r) => setTimeout(r, 50 + rand() * 400));
          // It got here on its own: neither the PostgreSQL crash nor anything else made it exit.
          expect(child.proc.exitCode).toBeNull();
          child.proc.kill("SIGKILL");
          await child.exited;
        }
      }
      await writer;
      expect(written).toBeGreaterThanOrEqual(events.length);
      const last = [
        spawnArchiver(inject("redisUrl"), url, namespace),
        spawnArchiver(inject("redisUrl"), url, namespace),
      ];
      await Promise.all(last.map((c) => c.ready));
      for (const accountId of accounts) {
        await waitFor(
          () => caughtUp(pool, redis, ledger.keys(accountId).log, accountId),
          60_000,
          `${accountId} archived`,
        );
      }
      for (const c of last) c.proc.kill("SIGTERM");
      await Promise.all(last.map((c) => c.exited));

      for (const accountId of accounts) {
        const ids = await trailIds(redis, ledger.keys(accountId).log);
        expect(ids.length).toBeGreaterThan(50);
        // Same ids in the same order: nothing missing, nothing twice (and nothing invented).
        expect(await archivedIds(pool, accountId)).toEqual(ids);
      }
      // Each charge counted once in the daily rollup too.
      const { rows } = await pool.query<{ account_id: string; raw: string; rolled: string }>(`
        SELECT e.account_id, e.raw, d.rolled FROM
          (SELECT account_id, sum(amount)::text AS raw FROM ledger_entries WHERE kind = 'charge' GROUP BY account_id) e
          JOIN (SELECT account_id, sum(credits)::text AS rolled FROM usage_rollup WHERE dim = 'session' GROUP BY account_id) d USING (account_id)`);
      expect(rows).toHaveLength(3);
      for (const r of rows) expect(r.rolled).toBe(r.raw);
      expect(await redis.zCard(pendingKey(namespace))).toBe(0);
    } finally {
      await writer.catch(() => undefined);
      await pool.end();
      await redis.close();
    }
  });
});
