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

/**
 * Runs `fn` on one pooled client (a transaction, a session lock). A connection that dies while
 * checked out (PostgreSQL restarted) emits `error` on the client, which would crash the process
 * unheard: it is caught here, and such a client is destroyed rather than pooled again.
 */
export async function withClient<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (err: Error): void => {
    broken = err;
  };
  client.on("error", onError);
  try {
    return await fn(client);
  } catch (err) {
    broken ??= err instanceof Error ? err : new Error(String(err));
    throw err;
  } finally {
    client.off("error", onError);
    client.release(broken);
  }
}

/** Runs `fn` in a transaction on one client: COMMIT when it resolves, ROLLBACK when it throws. */
export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return withClient(pool, async (client) => {
    await client.query("BEGIN");
    try {
      const result = await fn(client);
      await client.query("COMMIT");
      return result;
    } catch (err) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw err;
    }
  });
}
