import type { Pool } from "pg";
import { withClient } from "./database.js";

/** One schema step; applied once, in order, recorded in `schema_migrations`. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * The history schema (docs/history.md). Append only: a released migration is never edited, a
 * change is a new version.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "ledger entries, archive cursors, daily usage",
    sql: `
      -- Every audit entry of every account, keyed by its Redis stream id (ms-seq): the primary key
      -- is what makes a copy idempotent (ON CONFLICT DO NOTHING) and orders /ledger pages.
      CREATE TABLE ledger_entries (
        account_id text NOT NULL,
        ms bigint NOT NULL,
        seq bigint NOT NULL,
        kind text NOT NULL,
        -- The stream's amt as written (adjustments before v1.1 are signed).
        amount bigint NOT NULL,
        -- Usage group keys, as /usage groups them ("none" when the entry has no such field).
        action_key text NOT NULL,
        stage_key text NOT NULL,
        model_key text NOT NULL,
        session_key text NOT NULL,
        -- Every field of the stream entry, decoded by the same code as a Redis read (ledger/reads.ts).
        fields jsonb NOT NULL,
        PRIMARY KEY (account_id, ms, seq)
      );
      -- The edges of a long /usage window (part days) are summed from the charges themselves.
      CREATE INDEX ledger_entries_charges ON ledger_entries (account_id, ms)
        INCLUDE (amount, action_key, stage_key, model_key, session_key) WHERE kind = 'charge';

      -- How far each account's trail is copied: the last stream id copied, advanced in the same
      -- transaction as the rows it covers.
      CREATE TABLE archive_cursors (
        account_id text PRIMARY KEY,
        ms bigint NOT NULL,
        seq bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      );

      -- Charges per UTC day (days since 1970) and group, kept by the same transaction that inserts
      -- the charges (only rows actually inserted count), so a year of /usage reads ~365 x groups rows.
      CREATE TABLE usage_daily (
        account_id text NOT NULL,
        day integer NOT NULL,
        action_key text NOT NULL,
        stage_key text NOT NULL,
        model_key text NOT NULL,
        session_key text NOT NULL,
        credits bigint NOT NULL,
        count bigint NOT NULL,
        PRIMARY KEY (account_id, day, action_key, stage_key, model_key, session_key)
      );
    `,
  },
  {
    version: 2,
    name: "daily usage per grouping",
    // One row per (day, group key) for each grouping instead of one per (day, action, stage, model,
    // session): a busy account's sessions made the combined rollup nearly as long as the charges.
    sql: `
      CREATE TABLE usage_rollup (
        account_id text NOT NULL,
        -- action | stage | model | session (the day grouping sums the action rows of each day)
        dim text NOT NULL,
        day integer NOT NULL,
        key text NOT NULL,
        credits bigint NOT NULL,
        count bigint NOT NULL,
        PRIMARY KEY (account_id, dim, day, key)
      );
      INSERT INTO usage_rollup (account_id, dim, day, key, credits, count)
        SELECT account_id, d.dim, (ms / 86400000)::integer, d.key, sum(amount), count(*)
        FROM ledger_entries
        CROSS JOIN LATERAL (VALUES ('action', action_key), ('stage', stage_key), ('model', model_key), ('session', session_key)) AS d (dim, key)
        WHERE kind = 'charge'
        GROUP BY 1, 2, 3, 4;
      DROP TABLE usage_daily;
    `,
  },
];

// An arbitrary, fixed key: every creditmeter process migrating this database takes the same lock.
const MIGRATION_LOCK = 7_370_017;

/**
 * Applies the migrations not yet recorded, each in its own transaction, under a session advisory
 * lock: two processes starting at once do not both run a step (the second waits, then finds it
 * recorded). Returns the versions applied by this call.
 */
export async function migrate(pool: Pool, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  return withClient(pool, async (client) => {
    const applied: number[] = [];
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
    try {
      await client.query(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
      );
      const { rows } = await client.query<{ version: number }>("SELECT version FROM schema_migrations");
      const done = new Set(rows.map((r) => r.version));
      for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
        if (done.has(m.version)) continue;
        await client.query("BEGIN");
        try {
          // The pool's statement timeout is for reads; a step (a backfill over a large archive) may
          // take longer, and one that timed out would be retried, and cut, forever. LOCAL: the
          // client goes back to the pool with the timeout.
          await client.query("SET LOCAL statement_timeout = 0");
          await client.query(m.sql);
          await client.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [m.version, m.name]);
          await client.query("COMMIT");
        } catch (err) {
          await client.query("ROLLBACK").catch(() => undefined);
          throw err;
        }
        applied.push(m.version);
      }
    } finally {
      // A session lock: released here, or with the connection if that died.
      await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK]).catch(() => undefined);
    }
    return applied;
  });
}
