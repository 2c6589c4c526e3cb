import type { Pool } from "pg";
import type { Logger } from "pino";
import type { AppRedis } from "../redis/redis-client.js";
import { createHistoryPool } from "./database.js";
import { migrate } from "./migrations.js";
import { startArchiver, type Archiver } from "./archiver.js";
import { notePending, pendingKey } from "./pending.js";
import { archiveReads } from "./archive-reads.js";
import type { ArchiveReads } from "../ledger/api.js";
import type { RedisLedger } from "../ledger/redis-ledger.js";

/** The history room of a running server (CONTRACT §11, docs/history.md). */
export interface History {
  pool: Pool;
  /** Resolves once the schema is migrated (retried until it is, or until close). */
  migrated: Promise<void>;
  /** The ledger's onAudit hook: notes accounts with new entries for the archiver. */
  noteAudit(accountIds: string[]): void;
  /** The ledger's reads of the archive. */
  archive: ArchiveReads;
  /** How many accounts wait for archiving (for /metrics). */
  pendingAccounts(): Promise<number>;
  close(): Promise<void>;
}

export interface HistoryOptions {
  databaseUrl: string;
  redis: AppRedis;
  namespace: string;
  logger: Logger;
  /** The ledger whose trails are trimmed once archived; given later (it is built with `archive`). */
  ledger: Promise<Pick<RedisLedger, "trimLog">>;
  /** CREDITMETER_HOT_RETENTION_DAYS. */
  hotRetentionDays: number;
  /** CREDITMETER_LEDGER_RETENTION_DAYS: the archive keeps entries as long as Redis would have. */
  ledgerRetentionDays: number;
  /** Called on every failed archiving step (a metric); the log line is rate-limited. */
  onArchiveError?: () => void;
  /** Archiver pass interval (tests shorten it). */
  archiveIntervalMs?: number;
}

const MIGRATE_RETRY_MS = 5000;

/**
 * Opens the pool, migrates the schema, then archives. A PostgreSQL that is down at start does not
 * stop the server: entries stay in Redis and the migration is retried every few seconds.
 */
export function startHistory(o: HistoryOptions): History {
  const { logger } = o;
  const pool = createHistoryPool(o.databaseUrl, (err) =>
    logger.warn({ err: err.message }, "history database connection error"),
  );
  let closed = false;
  let wake: (() => void) | null = null;
  let archiver: Archiver | null = null;
  let lastError = 0;
  const onError = (err: unknown): void => {
    o.onArchiveError?.();
    // PostgreSQL down means an error per pass: log at most one every 5 s.
    if (Date.now() - lastError < 5000) return;
    lastError = Date.now();
    logger.warn(
      { err: err instanceof Error ? err.message : String(err) },
      "archiving failed; entries stay in Redis and are retried",
    );
  };
  const migrated = (async () => {
    for (;;) {
      try {
        const applied = await migrate(pool);
        if (applied.length > 0) logger.info({ applied }, "history schema migrated");
        break;
      } catch (err) {
        if (closed) throw err;
        logger.warn({ err: (err as Error).message }, "history schema migration failed; retrying");
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, MIGRATE_RETRY_MS).unref();
        });
        if (closed) throw err;
      }
    }
    const trim = {
      ledger: await o.ledger,
      hotMs: o.hotRetentionDays * 86_400_000,
      retentionMs: o.ledgerRetentionDays * 86_400_000,
    };
    archiver = startArchiver({
      pool,
      redis: o.redis,
      namespace: o.namespace,
      intervalMs: o.archiveIntervalMs,
      onError,
      trim,
    });
  })();
  migrated.catch(() => undefined);
  return {
    pool,
    migrated,
    archive: archiveReads(pool, o.redis),
    pendingAccounts: () => o.redis.zCard(pendingKey(o.namespace)),
    noteAudit(accountIds) {
      notePending(o.redis, o.namespace, accountIds).catch(onError);
    },
    async close() {
      closed = true;
      wake?.();
      await migrated.catch(() => undefined);
      await archiver?.stop();
      await pool.end();
    },
  };
}
