import pg from "pg";

/** Connection settings of the history pool: a read that needs PostgreSQL fails fast when it is down. */
const POOL = { max: 5, connectionTimeoutMillis: 2000, idleTimeoutMillis: 30_000, statement_timeout: 10_000 } as const;

/**
 * The history room's PostgreSQL pool. Errors of idle clients (PostgreSQL restarted) are reported,
 * not thrown: pg would otherwise crash the process on them.
 */
export function createHistoryPool(url: string, onError: (err: Error) => void): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, ...POOL });
  pool.on("error", onError);
  return pool;
}
