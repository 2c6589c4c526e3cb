import type { Pool } from "pg";
import type { AppRedis } from "../redis/redis-client.js";
import type { RedisLedger } from "../ledger/redis-ledger.js";
import { accountKeys } from "../ledger/keys.js";
import { readCursor } from "./archive-account.js";
import { inTransaction } from "./database.js";
import { msOf } from "./entry-row.js";

/** What trimming needs: the ledger's trim script and how long entries stay hot. */
export interface TrimOptions {
  ledger: Pick<RedisLedger, "trimLog">;
  /** CREDITMETER_HOT_RETENTION_DAYS in ms. */
  hotMs: number;
  /**
   * CREDITMETER_LEDGER_RETENTION_DAYS in ms: the archive drops whole UTC days older than this
   * (Redis drops them itself, by MINID on every write). Absent: the archive keeps everything.
   */
  retentionMs?: number;
}

/** When each account's trail is next due for a trim (ms), the oldest due first. */
export function trimDueKey(namespace: string): string {
  return `${namespace}:history:trim`;
}

// A trail that failed is looked at again this much later.
const RECHECK_MS = 60_000;
const DAY = 86_400_000;
const DUE_PER_PASS = 200;

/**
 * Schedules an account's trim for when its oldest entry leaves the hot window (or keeps an earlier
 * time already scheduled). Called once the archive has caught up with the account.
 */
export async function scheduleTrim(
  redis: AppRedis,
  namespace: string,
  accountId: string,
  hotMs: number,
): Promise<void> {
  const [first] = await redis.xRange(accountKeys(namespace, accountId).log, "-", "+", { COUNT: 1 });
  if (!first) return;
  await redis.zAdd(trimDueKey(namespace), { score: msOf(first.id) + hotMs, value: accountId }, { comparison: "LT" });
}

/**
 * Trims one account's trail below min(the archive cursor's ms, now − hot): only entries that are
 * both copied and older than the hot retention go. The bound is a whole millisecond, so a
 * trail always keeps every entry of the cursor's own millisecond. Reschedules the account.
 */
export async function trimAccount(
  pool: Pool,
  redis: AppRedis,
  namespace: string,
  accountId: string,
  o: TrimOptions,
  now: number,
): Promise<number> {
  const cursor = await readCursor(pool, accountId);
  let removed = 0;
  if (cursor) removed = await o.ledger.trimLog(accountId, Math.min(msOf(cursor), now - o.hotMs));
  if (o.retentionMs !== undefined) {
    const day = Math.floor((now - o.retentionMs) / DAY);
    // One transaction (a crash between the two would leave rollups of days whose entries are
    // gone), without the pool's statement timeout: the first run after the retention was lowered
    // on a busy account deletes a large backlog, and a timeout would cut it on every pass.
    await inTransaction(pool, async (client) => {
      await client.query("SET LOCAL statement_timeout = 0");
      await client.query("DELETE FROM ledger_entries WHERE account_id = $1 AND ms < $2", [accountId, day * DAY]);
      await client.query("DELETE FROM usage_rollup WHERE account_id = $1 AND day < $2", [accountId, day]);
    });
  }
  const [first] = await redis.xRange(accountKeys(namespace, accountId).log, "-", "+", { COUNT: 1 });
  // Next: when the oldest archived entry leaves the hot window; with nothing archived left to trim,
  // a day later (for the archive's retention), unless the archiver's next catch-up schedules it sooner.
  const archived = first !== undefined && cursor !== null && msOf(first.id) < msOf(cursor);
  const next = archived ? Math.max(msOf(first.id) + o.hotMs, now + 1) : now + DAY;
  await redis.zAdd(trimDueKey(namespace), { score: next, value: accountId });
  return removed;
}

/** Trims every account whose trim is due; one that fails is retried at its next schedule. */
export async function trimDue(
  pool: Pool,
  redis: AppRedis,
  namespace: string,
  o: TrimOptions,
  now: number,
  onError: (err: unknown) => void,
): Promise<number> {
  const due = await redis.zRange(trimDueKey(namespace), 0, now, {
    BY: "SCORE",
    LIMIT: { offset: 0, count: DUE_PER_PASS },
  });
  let removed = 0;
  for (const accountId of due) {
    try {
      removed += await trimAccount(pool, redis, namespace, accountId, o, now);
    } catch (err) {
      onError(err);
      await redis.zAdd(trimDueKey(namespace), { score: now + RECHECK_MS, value: accountId }).catch(() => undefined);
    }
  }
  return removed;
}
