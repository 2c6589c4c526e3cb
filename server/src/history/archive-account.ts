import type { Pool, PoolClient } from "pg";
import type { AppRedis } from "../redis/redis-client.js";
import { expandEntries } from "../ledger/audit-entries.js";
import { toRow } from "./entry-row.js";
import { inTransaction } from "./database.js";

/** What one pass over an account did. */
export type ArchiveResult =
  { state: "busy" } | { state: "copied"; copied: number; inserted: number; more: boolean; cursor: string | null };

// Advisory-lock keys of per-account leases: hashtextextended(accountId, ACCOUNT_LOCK_SEED).
const ACCOUNT_LOCK_SEED = 7_370_018;

// One INSERT of a whole batch (unnest of parallel arrays); the rows actually inserted (not
// already there) feed the daily usage rollups, so a batch copied twice is counted once.
const INSERT_BATCH = `
  WITH ins AS (
    INSERT INTO ledger_entries (account_id, ms, seq, kind, amount, action_key, stage_key, model_key, session_key, fields)
    SELECT $1, * FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::bigint[], $6::text[], $7::text[], $8::text[], $9::text[], $10::jsonb[])
    ON CONFLICT (account_id, ms, seq) DO NOTHING
    RETURNING ms, kind, amount, action_key, stage_key, model_key, session_key
  ), rollup AS (
    INSERT INTO usage_rollup (account_id, dim, day, key, credits, count)
    SELECT $1, d.dim, (ins.ms / 86400000)::integer, d.key, sum(ins.amount), count(*)
    FROM ins CROSS JOIN LATERAL (VALUES ('action', action_key), ('stage', stage_key), ('model', model_key), ('session', session_key)) AS d (dim, key)
    WHERE ins.kind = 'charge'
    GROUP BY 2, 3, 4
    ON CONFLICT (account_id, dim, day, key)
    DO UPDATE SET credits = usage_rollup.credits + EXCLUDED.credits, count = usage_rollup.count + EXCLUDED.count
  )
  SELECT count(*)::integer AS inserted FROM ins`;

const ADVANCE_CURSOR = `
  INSERT INTO archive_cursors (account_id, ms, seq) VALUES ($1, $2, $3)
  ON CONFLICT (account_id) DO UPDATE SET ms = EXCLUDED.ms, seq = EXCLUDED.seq, updated_at = now()`;

/** The id of the last entry archived for an account, or null before its first. */
export async function readCursor(db: Pool | PoolClient, accountId: string): Promise<string | null> {
  const { rows } = await db.query<{ ms: string; seq: string }>(
    "SELECT ms, seq FROM archive_cursors WHERE account_id = $1",
    [accountId],
  );
  const row = rows[0];
  return row ? `${row.ms}-${row.seq}` : null;
}

/** The cursors of several accounts at once (an account without one is absent from the map). */
export async function readCursors(db: Pool, accountIds: string[]): Promise<Map<string, string>> {
  const { rows } = await db.query<{ account_id: string; ms: string; seq: string }>(
    "SELECT account_id, ms, seq FROM archive_cursors WHERE account_id = ANY($1::text[])",
    [accountIds],
  );
  return new Map(rows.map((r) => [r.account_id, `${r.ms}-${r.seq}`]));
}

async function copyBatch(
  client: PoolClient,
  redis: AppRedis,
  log: string,
  accountId: string,
  limit: number,
): Promise<ArchiveResult> {
  const lease = await client.query<{ ok: boolean }>(
    "SELECT pg_try_advisory_xact_lock(hashtextextended($1, $2)) AS ok",
    [accountId, ACCOUNT_LOCK_SEED],
  );
  if (!lease.rows[0]?.ok) return { state: "busy" };
  const cursor = await readCursor(client, accountId);
  // Whole stream entries (a packed one holds several movements, all below the next entry's id):
  // the cursor is the last movement copied, so the next pass starts at the next entry.
  const batch = await redis.xRange(log, cursor ? `(${cursor}` : "-", "+", { COUNT: limit });
  const moves = expandEntries(batch);
  const last = moves.at(-1);
  if (!last) return { state: "copied", copied: 0, inserted: 0, more: false, cursor };
  const rows = moves.map(({ id, fields }) => toRow(id, fields));
  const col = <K extends keyof (typeof rows)[number]>(k: K) => rows.map((r) => r[k]);
  const res = await client.query<{ inserted: number }>(INSERT_BATCH, [
    accountId,
    col("ms"),
    col("seq"),
    col("kind"),
    col("amount"),
    col("actionKey"),
    col("stageKey"),
    col("modelKey"),
    col("sessionKey"),
    col("fields"),
  ]);
  const lastRow = rows[rows.length - 1];
  await client.query(ADVANCE_CURSOR, [accountId, lastRow?.ms, lastRow?.seq]);
  return {
    state: "copied",
    copied: rows.length,
    inserted: res.rows[0]?.inserted ?? 0,
    more: batch.length === limit,
    cursor: last.id,
  };
}

/**
 * Copies the movements of the next `limit` stream entries of one account's audit trail after its cursor, and advances the
 * cursor, in one transaction under a per-account advisory lease (another process holding it: "busy").
 * A crash before COMMIT copies nothing and moves nothing; one after it has copied and moved both:
 * with the primary key on (account, id) every entry ends in PostgreSQL exactly once.
 */
export async function archiveAccount(
  pool: Pool,
  redis: AppRedis,
  log: string,
  accountId: string,
  limit = 1000,
): Promise<ArchiveResult> {
  return inTransaction(pool, (client) => copyBatch(client, redis, log, accountId, limit));
}
