import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { inject } from "vitest";
import { mintToken } from "../../server/src/auth/index.js";
import { startLoopbackServer } from "../support/server-process.js";
import { waitFor } from "../support/redis-server.js";
import { postgresAvailable, usePostgres } from "../support/use-postgres.js";
import { createHistoryPool } from "../../server/src/history/database.js";
import { accountKeys } from "../../server/src/ledger/keys.js";
import { testRedis } from "../support/ledger.js";

const SECRET = "history-server-test-secret";

describe.skipIf(!postgresAvailable)("a server with CREDITMETER_DATABASE_URL", () => {
  const postgres = usePostgres();

  it("migrates at start, archives what it writes within 5 s, and trims it with no hot retention", async () => {
    const url = await postgres().createDatabase();
    const namespace = `t-${randomUUID()}`;
    const redis = await testRedis();
    const server = await startLoopbackServer({
      REDIS_URL: inject("redisUrl"),
      CREDITMETER_KEY_PREFIX: namespace,
      CREDITMETER_QUEUE: `history-${randomUUID()}`,
      CREDITMETER_AUTH_SECRET: SECRET,
      CREDITMETER_DATABASE_URL: url,
      CREDITMETER_HOT_RETENTION_DAYS: "0",
    });
    const base = server.url;
    const pool = createHistoryPool(url, () => undefined);
    try {
      const ops = {
        "content-type": "application/json",
        authorization: `Bearer ${await mintToken(SECRET, { sub: "ops-1", role: "ops", ttlSeconds: 600 })}`,
      };
      expect(
        (await fetch(`${base}/v1/accounts/srv`, { method: "PUT", headers: ops, body: JSON.stringify({ plan: "pro" }) }))
          .status,
      ).toBe(200);
      const pack = await fetch(`${base}/v1/accounts/srv/packs`, {
        method: "POST",
        headers: ops,
        body: JSON.stringify({ packId: "p1", credits: 40 }),
      });
      expect(pack.status).toBeLessThan(300);
      const written = Date.now();
      await waitFor(
        async () => (await pool.query("SELECT 1 FROM ledger_entries WHERE account_id = 'srv'")).rowCount === 1,
        5000,
        "the grant archived",
      );
      expect(Date.now() - written).toBeLessThan(5000);
      const { rows } = await pool.query<{ version: number }>("SELECT version FROM schema_migrations ORDER BY version");
      expect(rows.length).toBeGreaterThan(0);
      // Hot retention 0: Redis lets the copied entry go (its own millisecond aside, until a later
      // entry is copied); the trail still reads the same through the archive.
      const adjust = await fetch(`${base}/v1/accounts/srv/adjustments`, {
        method: "POST",
        headers: ops,
        body: JSON.stringify({ adjustmentId: "a1", credits: 2, reason: "r" }),
      });
      expect(adjust.status).toBeLessThan(300);
      const page = async (): Promise<unknown> =>
        (await fetch(`${base}/v1/accounts/srv/ledger?limit=10`, { headers: ops })).json();
      const before = await page();
      await waitFor(
        async () => (await pool.query("SELECT 1 FROM ledger_entries WHERE account_id = 'srv'")).rowCount === 2,
        5000,
        "the adjustment archived",
      );
      // The pack's entry (an earlier millisecond than the adjustment, now copied) leaves Redis.
      await waitFor(
        async () => (await redis.xLen(accountKeys(namespace, "srv").log)) === 1,
        10_000,
        "the trail trimmed",
      );
      expect(Number(await redis.get(accountKeys(namespace, "srv").trimmed))).toBeGreaterThan(0);
      await waitFor(
        async () => {
          const res = await fetch(`${base}/v1/accounts/srv/ledger?limit=10`, { headers: ops });
          return res.ok && JSON.stringify(await res.json()) === JSON.stringify(before);
        },
        5000,
        "the same page",
      );
      // Caught up: nothing waits for archiving, and /metrics says so.
      await waitFor(
        async () =>
          (await (await fetch(`${base}/metrics`, { headers: ops })).text()).includes(
            "creditmeter_history_pending_accounts 0",
          ),
        10_000,
        "no account pending in /metrics",
      );
    } finally {
      await server.kill("SIGTERM");
      await pool.end();
      await redis.close();
    }
  });
});
