import type { Pool } from "pg";
import type { Logger } from "pino";
import { createHistoryPool } from "./database.js";
import { migrate } from "./migrations.js";

/** The history room of a running server (CONTRACT §11, docs/history.md). */
export interface History {
  pool: Pool;
  /** Resolves once the schema is migrated (retried until it is, or until close). */
  migrated: Promise<void>;
  close(): Promise<void>;
}

const MIGRATE_RETRY_MS = 5000;

/**
 * Opens the pool and migrates the schema. A PostgreSQL that is down at start does not stop the
 * server: entries stay in Redis and the migration is retried every few seconds.
 */
export function startHistory(databaseUrl: string, logger: Logger): History {
  const pool = createHistoryPool(databaseUrl, (err) =>
    logger.warn({ err: err.message }, "history database connection error"),
  );
  let closed = false;
  let wake: (() => void) | null = null;
  const migrated = (async () => {
    for (;;) {
      try {
        const applied = await migrate(pool);
        if (applied.length > 0) logger.info({ applied }, "history schema migrated");
        return;
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
  })();
  migrated.catch(() => undefined);
  return {
    pool,
    migrated,
    async close() {
      closed = true;
      wake?.();
      await migrated.catch(() => undefined);
      await pool.end();
    },
  };
}
