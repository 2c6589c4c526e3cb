import type { Pool } from "pg";
import { CreditmeterError, type LedgerPage, type LedgerQuery, type Usage, type UsageQuery } from "@creditmeter/shared";
import type { AppRedis } from "../redis/redis-client.js";
import type { AccountKeys } from "../ledger/keys.js";
import { addToGroup, scanUsage, toEntry, usageAnswer, usageWindow, type UsageGroups } from "../ledger/reads.js";
import { movementsBefore } from "../ledger/audit-entries.js";
import { archiveRead } from "./archive-reads.js";
import { compareIds, msOf, splitId } from "./entry-row.js";

const DAY = 86_400_000;

/**
 * Where an account's trail starts in Redis: entries below `firstMs` are only in the archive once
 * the trail was ever trimmed (`trimmed` > 0). Redis always holds a whole suffix of the trail (ids
 * from `firstId` on: trimming removes whole milliseconds from the front).
 */
interface Head {
  trimmed: number;
  firstId: string | null;
}

async function readHead(redis: AppRedis, k: AccountKeys): Promise<Head> {
  const [trimmed, first] = await Promise.all([redis.get(k.trimmed), redis.xRange(k.log, "-", "+", { COUNT: 1 })]);
  return { trimmed: Number(trimmed ?? 0), firstId: first[0]?.id ?? null };
}

/**
 * Runs a read over Redis and, below its head, PostgreSQL; a trim between the two reads (the head
 * moved) runs it again, so no entry falls between them.
 */
async function stableRead<T>(redis: AppRedis, k: AccountKeys, read: (head: Head) => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const head = await readHead(redis, k);
    const result = await read(head);
    const after = await readHead(redis, k);
    if (after.firstId === head.firstId && after.trimmed === head.trimmed) return result;
    // A head that keeps moving (at most one trim a second per account makes this all but
    // impossible): refuse rather than answer with a possible gap at the seam.
    if (attempt >= 4) {
      throw new CreditmeterError(
        "unavailable",
        "unavailable: the trail kept being trimmed while it was read; try again",
      );
    }
  }
}

// The raw column of each grouping, and the rollup's `dim` it reads (day: the action rows, by day).
const GROUP_COLUMN: Record<UsageQuery["groupBy"], { raw: string; dim: string }> = {
  action: { raw: "action_key", dim: "action" },
  stage: { raw: "stage_key", dim: "stage" },
  model: { raw: "model_key", dim: "model" },
  session: { raw: "session_key", dim: "session" },
  day: { raw: "(ms / 86400000)::integer::text", dim: "action" },
};

/**
 * The groups of a usage query's SQL, flattened into one JSON text `[key, credits, count, …]`:
 * a year grouped by session is ~33,000 groups, and one text value costs node-postgres a fraction
 * of what as many rows do (parsing rows was most of the read, docs/history.md).
 */
function flatGroups(groupsSql: string): string {
  return `SELECT '[' || string_agg(to_json(key)::text || ',' || credits || ',' || count, ',') || ']' AS flat
    FROM (${groupsSql}) g`;
}

/** Calls `add` for each group of a `flatGroups` answer; anything else is a bug worth a loud failure. */
function eachFlatGroup(
  flat: string | null | undefined,
  add: (key: string, credits: number, count: number) => void,
): void {
  const values: unknown = JSON.parse(flat ?? "[]");
  if (!Array.isArray(values) || values.length % 3 !== 0)
    throw new Error("usage groups: not a [key, credits, count, …] list");
  for (let i = 0; i < values.length; i += 3) {
    const key: unknown = values[i];
    const credits: unknown = values[i + 1];
    const count: unknown = values[i + 2];
    if (typeof key !== "string" || typeof credits !== "number" || typeof count !== "number") {
      throw new Error(`usage groups: group ${i / 3} is not [key, credits, count]`);
    }
    add(key, credits, count);
  }
}

/** The groups of the archived charges in [fromMs, toMs), as one `flatGroups` text. */
async function archivedGroups(
  pool: Pool,
  accountId: string,
  fromMs: number,
  toMs: number,
  groupBy: UsageQuery["groupBy"],
): Promise<string | null | undefined> {
  // Whole UTC days from the daily rollup of the grouping, the part days at either edge from the
  // charges themselves (both indexed by account and time).
  const firstDay = Math.ceil(fromMs / DAY);
  const endDay = Math.max(firstDay, Math.floor(toMs / DAY));
  const whole = endDay > firstDay;
  // Without whole days the raw range is the window itself (the second range is empty).
  const [rawA, rawB] = whole ? [firstDay * DAY, endDay * DAY] : [toMs, toMs];
  const { raw, dim } = GROUP_COLUMN[groupBy];
  const { rows } = await pool.query<{ flat: string | null }>(
    flatGroups(`SELECT key, sum(credits) AS credits, sum(count) AS count FROM (
       SELECT ${groupBy === "day" ? "day::text" : "key"} AS key, credits, count FROM usage_rollup
         WHERE account_id = $1 AND dim = $8 AND day >= $2 AND day < $3
       UNION ALL
       SELECT ${raw} AS key, amount AS credits, 1 AS count FROM ledger_entries
         WHERE account_id = $1 AND kind = 'charge' AND ((ms >= $4 AND ms < $5) OR (ms >= $6 AND ms < $7))
     ) u GROUP BY key`),
    [accountId, firstDay, whole ? endDay : firstDay, fromMs, rawA, rawB, toMs, dim],
  );
  return rows[0]?.flat;
}

/** Adds the archived charges in [fromMs, toMs) to `groups`. */
async function archivedUsage(
  pool: Pool,
  accountId: string,
  fromMs: number,
  toMs: number,
  groupBy: UsageQuery["groupBy"],
  groups: UsageGroups,
): Promise<void> {
  eachFlatGroup(await archivedGroups(pool, accountId, fromMs, toMs, groupBy), (key, credits, count) =>
    addToGroup(
      groups,
      groupBy === "day" ? new Date(Number(key) * DAY).toISOString().slice(0, 10) : key,
      credits,
      count,
    ),
  );
}

/** GET …/usage over Redis and, for what Redis no longer holds, the archive (CONTRACT §4, §11). */
export function readUsageWithArchive(pool: Pool, redis: AppRedis, k: AccountKeys, query: UsageQuery): Promise<Usage> {
  const { from, to } = usageWindow(query);
  return stableRead(redis, k, async (head) => {
    const groups: UsageGroups = new Map();
    const redisFrom = head.firstId ? msOf(head.firstId) : Number.POSITIVE_INFINITY;
    if (head.trimmed > 0 && from < Math.min(to, redisFrom)) {
      await archiveRead(() => archivedUsage(pool, k.accountId, from, Math.min(to, redisFrom), query.groupBy, groups));
    }
    if (head.firstId && to > redisFrom)
      await scanUsage(redis, k.log, Math.max(from, redisFrom), to, query.groupBy, groups);
    else if (head.trimmed === 0) await scanUsage(redis, k.log, from, to, query.groupBy, groups);
    return usageAnswer(from, to, query.groupBy, groups);
  });
}

/** GET …/ledger over Redis and, past what Redis holds, the archive: one order, one cursor. */
export function readLedgerWithArchive(
  pool: Pool,
  redis: AppRedis,
  k: AccountKeys,
  query: LedgerQuery,
): Promise<LedgerPage> {
  return stableRead(redis, k, async (head) => {
    const moves = await movementsBefore(redis, k.log, query.cursor ?? null, query.limit + 1);
    const entries = moves.map(({ id, fields }) => toEntry(id, fields));
    if (entries.length <= query.limit && head.trimmed > 0) {
      // Older than anything Redis holds (and than the cursor): the archive, newest first.
      const below =
        head.firstId && (!query.cursor || compareIds(head.firstId, query.cursor) < 0) ? head.firstId : query.cursor;
      const older = await archiveRead(async () => {
        const at = below ? splitId(below) : null;
        // pg returns bigint columns as strings; they must stay bigint here for ORDER BY (text
        // aliases named like the columns would order "9" after "12").
        const { rows } = await pool.query<{ ms: string; seq: string; fields: Record<string, string> }>(
          `SELECT ms, seq, fields FROM ledger_entries WHERE account_id = $1 ${at ? "AND (ms, seq) < ($3, $4)" : ""}
           ORDER BY ms DESC, seq DESC LIMIT $2`,
          at
            ? [k.accountId, query.limit + 1 - entries.length, at.ms, at.seq]
            : [k.accountId, query.limit + 1 - entries.length],
        );
        return rows;
      });
      for (const r of older) entries.push(toEntry(`${r.ms}-${r.seq}`, r.fields));
    }
    const page = entries.slice(0, query.limit);
    const last = page.at(-1);
    return { entries: page, nextCursor: entries.length > query.limit && last ? last.id : null };
  });
}
