import type { Pool } from "pg";
import type { AppRedis } from "../redis/redis-client.js";
import { accountKeys } from "../ledger/keys.js";
import { archiveAccount, readCursors } from "./archive-account.js";
import { compareIds } from "./entry-row.js";
import { scheduleTrim, trimDue, type TrimOptions } from "./trim.js";
import { accountsWithTrail, clearPending, notePending, pendingAccounts, requeuePending } from "./pending.js";

export interface ArchiverOptions {
  pool: Pool;
  redis: AppRedis;
  namespace: string;
  /** How often the pending set is read (1 s: entries reach PostgreSQL well within 5 s). */
  intervalMs?: number;
  /** How often every trail is compared with its cursor, for hints lost in a crash. */
  scanIntervalMs?: number;
  /** Entries per transaction. */
  batch?: number;
  onError(err: unknown): void;
  /** Trim trails once archived (absent: Redis keeps the whole retention). */
  trim?: TrimOptions;
  /** The clock of the hot window (tests move it). */
  now?: () => number;
}

export interface Archiver {
  /** One pass over the pending accounts (also what the timer runs); resolves when done. */
  pass(): Promise<void>;
  /** Notes every account whose trail is ahead of its cursor (the crash backstop). */
  scan(): Promise<number>;
  stop(): Promise<void>;
}

const PENDING_PER_PASS = 200;

/**
 * Copies one account until it has caught up, then drops it from the pending set. The re-check
 * after the drop closes the race with a writer: its entry is in the trail before its hint, so
 * either the hint comes after the drop (and stays) or the entry is seen here (and re-noted).
 */
async function drainAccount(o: ArchiverOptions, accountId: string): Promise<void> {
  const log = accountKeys(o.namespace, accountId).log;
  for (;;) {
    const r = await archiveAccount(o.pool, o.redis, log, accountId, o.batch);
    if (r.state === "busy") return; // another process has it; the hint stays for whoever is next
    if (r.more) continue;
    await clearPending(o.redis, o.namespace, accountId);
    const after = await o.redis.xRange(log, r.cursor ? `(${r.cursor}` : "-", "+", { COUNT: 1 });
    if (after.length > 0) await notePending(o.redis, o.namespace, [accountId]);
    else if (r.cursor && o.trim) await scheduleTrim(o.redis, o.namespace, accountId, o.trim.hotMs);
    return;
  }
}

/**
 * Runs the archiver in this process (any number of processes may: per-account leases keep them
 * off each other's accounts, and idempotent inserts make a repeat harmless).
 */
export function startArchiver(o: ArchiverOptions): Archiver {
  let stopped = false;
  const pass = async (): Promise<void> => {
    for (const accountId of await pendingAccounts(o.redis, o.namespace, PENDING_PER_PASS)) {
      if (stopped) return;
      try {
        await drainAccount(o, accountId);
      } catch (err) {
        o.onError(err);
        // Still pending, but behind the others: accounts that keep failing (PostgreSQL refusing a
        // row) must not hold the oldest PENDING_PER_PASS places and stop everyone else's archive.
        await requeuePending(o.redis, o.namespace, accountId).catch(o.onError);
      }
    }
    if (o.trim && !stopped) await trimDue(o.pool, o.redis, o.namespace, o.trim, (o.now ?? Date.now)(), o.onError);
  };
  const scan = async (): Promise<number> => {
    let noted = 0;
    for await (const ids of accountsWithTrail(o.redis, o.namespace)) {
      // One round trip each way per SCAN page, not per account: the backstop visits every trail.
      const [lasts, cursors] = await Promise.all([
        Promise.all(ids.map((id) => o.redis.xRevRange(accountKeys(o.namespace, id).log, "+", "-", { COUNT: 1 }))),
        readCursors(o.pool, ids),
      ]);
      const behind = ids.filter((accountId, i) => {
        const last = lasts[i]?.[0];
        const cursor = cursors.get(accountId);
        return last !== undefined && (cursor === undefined || compareIds(last.id, cursor) > 0);
      });
      await notePending(o.redis, o.namespace, behind);
      noted += behind.length;
    }
    return noted;
  };
  // Each task has its own guard: a long scan never delays the passes that keep the 5 s promise.
  const inFlight = new Set<Promise<void>>();
  const tick = (what: () => Promise<unknown>) => {
    let running = false;
    return () => {
      if (running || stopped) return;
      running = true;
      const p = what()
        .then(() => undefined, o.onError)
        .finally(() => {
          running = false;
          inFlight.delete(p);
        });
      inFlight.add(p);
    };
  };
  const timer = setInterval(tick(pass), o.intervalMs ?? 1000);
  const scanTick = tick(scan);
  const scanTimer = setInterval(scanTick, o.scanIntervalMs ?? 300_000);
  timer.unref();
  scanTimer.unref();
  // At start: hints a crashed process never wrote are found now, not only at the first scan.
  setImmediate(scanTick);
  return {
    pass,
    scan,
    async stop() {
      stopped = true;
      clearInterval(timer);
      clearInterval(scanTimer);
      await Promise.all(inFlight);
    },
  };
}
