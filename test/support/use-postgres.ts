import { afterAll, beforeAll } from "vitest";
import { postgresBinDir, startPostgres, type TestPostgres } from "./postgres-server.js";

/**
 * One cluster shared by the tests of a file (started in beforeAll, removed in afterAll); each
 * test takes its own database with `createDatabase()`. Without initdb outside CI the caller
 * should skip (see `postgresAvailable`).
 */
export function usePostgres(): () => TestPostgres {
  let server: TestPostgres | null = null;
  beforeAll(async () => {
    server = await startPostgres();
  }, 180_000);
  afterAll(() => server?.destroy());
  return () => {
    if (!server) throw new Error("the PostgreSQL fixture is not started (call usePostgres() at the top of the file)");
    return server;
  };
}

/** True when a cluster can be started here; in CI it must be (.ci/run installs PostgreSQL). */
export const postgresAvailable = postgresBinDir() !== null || process.env.CI === "true";
