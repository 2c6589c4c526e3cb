import pg from "pg";
import { describe, expect, it } from "vitest";
import { loadConfig } from "@creditmeter/server";
import { MIGRATIONS, migrate } from "../../server/src/history/migrations.js";
import { createHistoryPool } from "../../server/src/history/database.js";
import { postgresAvailable, usePostgres } from "../support/use-postgres.js";

describe.skipIf(!postgresAvailable)("history migrations", () => {
  const postgres = usePostgres();

  it("two processes starting at once apply each version exactly once, and a restart applies nothing", async () => {
    const url = await postgres().createDatabase();
    const pools = [createHistoryPool(url, () => undefined), createHistoryPool(url, () => undefined)];
    try {
      const applied = await Promise.all(pools.map((p) => migrate(p)));
      // One of them ran every step, the other waited on the lock and found them recorded.
      expect(applied.flat().sort()).toEqual(MIGRATIONS.map((m) => m.version));
      expect(await migrate(pools[0] as pg.Pool)).toEqual([]);
      const { rows } = await (pools[0] as pg.Pool).query<{ version: number }>(
        "SELECT version FROM schema_migrations ORDER BY version",
      );
      expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
      const tables = await (pools[0] as pg.Pool).query<{ tablename: string }>(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
      );
      expect(tables.rows.map((r) => r.tablename)).toEqual([
        "archive_cursors",
        "ledger_entries",
        "schema_migrations",
        "usage_rollup",
      ]);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  it("version 2 moves the daily usage of charges archived under version 1 into the per-grouping rollup", async () => {
    const url = await postgres().createDatabase();
    const pool = createHistoryPool(url, () => undefined);
    try {
      await migrate(pool, MIGRATIONS.slice(0, 1));
      await pool.query(`INSERT INTO ledger_entries VALUES
        ('a', 86400000, 0, 'charge', 5, 'script', 'research', 'none', 's1', '{}'),
        ('a', 86400001, 0, 'charge', 7, 'image', 'keyframes', 'none', 's1', '{}'),
        ('a', 86400002, 0, 'hold', 9, 'image', 'keyframes', 'none', 's1', '{}')`);
      expect(await migrate(pool)).toEqual([2]);
      const { rows } = await pool.query(
        "SELECT dim, day, key, credits::int, count::int FROM usage_rollup ORDER BY dim, key",
      );
      expect(rows).toEqual([
        { dim: "action", day: 1, key: "image", credits: 7, count: 1 },
        { dim: "action", day: 1, key: "script", credits: 5, count: 1 },
        { dim: "model", day: 1, key: "none", credits: 12, count: 2 },
        { dim: "session", day: 1, key: "s1", credits: 12, count: 2 },
        { dim: "stage", day: 1, key: "keyframes", credits: 7, count: 1 },
        { dim: "stage", day: 1, key: "research", credits: 5, count: 1 },
      ]);
    } finally {
      await pool.end();
    }
  });

  it("a failing step leaves nothing half-applied and is not recorded", async () => {
    const url = await postgres().createDatabase();
    const pool = createHistoryPool(url, () => undefined);
    try {
      const broken = [
        ...MIGRATIONS,
        { version: 99, name: "broken", sql: "CREATE TABLE half (v int); SELECT no_such_function()" },
      ];
      await expect(migrate(pool, broken)).rejects.toThrow(/no_such_function/);
      const { rows } = await pool.query<{ version: number }>("SELECT version FROM schema_migrations ORDER BY version");
      expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
      const half = await pool.query("SELECT to_regclass('half') AS t");
      expect(half.rows[0]).toEqual({ t: null });
    } finally {
      await pool.end();
    }
  });

  it("a step longer than the pool's statement timeout (meant for reads) still completes", async () => {
    const url = await postgres().createDatabase();
    // The server's pool cuts statements at 10 s; a backfill over a large archive takes longer.
    const pool = new pg.Pool({ connectionString: url, statement_timeout: 100 });
    try {
      const slow = [...MIGRATIONS, { version: 99, name: "slow backfill", sql: "SELECT pg_sleep(0.5)" }];
      expect(await migrate(pool, slow)).toEqual([...MIGRATIONS.map((m) => m.version), 99]);
    } finally {
      await pool.end();
    }
  });
});

describe("history configuration", () => {
  it("is off without CREDITMETER_DATABASE_URL (or with it empty) and keeps 7 hot days by default", () => {
    expect(loadConfig({}).databaseUrl).toBeUndefined();
    expect(loadConfig({ CREDITMETER_DATABASE_URL: "" }).databaseUrl).toBeUndefined();
    expect(loadConfig({}).hotRetentionDays).toBe(7);
    const on = loadConfig({
      CREDITMETER_DATABASE_URL: "postgres://u@db:5432/creditmeter",
      CREDITMETER_HOT_RETENTION_DAYS: "0",
    });
    expect(on.databaseUrl).toBe("postgres://u@db:5432/creditmeter");
    expect(on.hotRetentionDays).toBe(0);
  });

  it("refuses a URL that is not PostgreSQL's and a negative retention, naming the variable", () => {
    expect(() => loadConfig({ CREDITMETER_DATABASE_URL: "mysql://db/x" })).toThrow(/CREDITMETER_DATABASE_URL/);
    expect(() => loadConfig({ CREDITMETER_HOT_RETENTION_DAYS: "-1" })).toThrow(/CREDITMETER_HOT_RETENTION_DAYS/);
  });
});
