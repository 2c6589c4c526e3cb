import type { Pool } from "pg";
import { CreditmeterError } from "@creditmeter/shared";
import type { ArchiveReads } from "../ledger/api.js";
import type { AppRedis } from "../redis/redis-client.js";
import { readLedgerWithArchive, readUsageWithArchive } from "./history-reads.js";

/**
 * True for a failure to reach PostgreSQL (refused, reset, timed out, shutting down, a statement
 * cancelled by its timeout), as opposed to an error in the query itself: SQLSTATE classes 08
 * (connection) and 57P (shutdown), 57014, or a Node error without a SQLSTATE.
 */
function unreachable(err: unknown): boolean {
  const code = err instanceof Error && "code" in err ? String(err.code) : "";
  if (!/^[0-9A-Z]{5}$/.test(code)) return true;
  // 57014: a statement cancelled by the timeout, an overloaded PostgreSQL: try again, as for 503.
  return code.startsWith("08") || code.startsWith("57P") || code === "57014";
}

/** Runs a read of the archive; PostgreSQL out of reach becomes 503 `unavailable` (CONTRACT §11). */
export async function archiveRead<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (!unreachable(err)) throw err;
    throw new CreditmeterError(
      "unavailable",
      "unavailable: the ledger's history (PostgreSQL) cannot be reached; try again shortly",
    );
  }
}

/** The ledger's reads of the archive (history in PostgreSQL), joined to what Redis still holds. */
export function archiveReads(pool: Pool, redis: AppRedis): ArchiveReads {
  return {
    usage: (keys, query) => readUsageWithArchive(pool, redis, keys, query),
    ledgerPage: (keys, query) => readLedgerWithArchive(pool, redis, keys, query),
    chargesBetween: (accountId, fromMs, belowMs) =>
      archiveRead(async () => {
        const { rows } = await pool.query<{ sum: string }>(
          "SELECT coalesce(sum(amount), 0)::text AS sum FROM ledger_entries WHERE account_id = $1 AND kind = 'charge' AND ms >= $2 AND ms < $3",
          [accountId, fromMs, belowMs],
        );
        return Number(rows[0]?.sum ?? 0);
      }),
  };
}
