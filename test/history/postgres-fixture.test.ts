import { existsSync } from "node:fs";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { startPostgres } from "../support/postgres-server.js";
import { postgresAvailable } from "../support/use-postgres.js";

describe.skipIf(!postgresAvailable)("the private PostgreSQL fixture", () => {
  it("starts a cluster of its own on loopback, survives a restart, and removes it all at the end", async () => {
    const server = await startPostgres();
    expect(server.port).not.toBe(5432);
    const url = await server.createDatabase();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query("CREATE TABLE t (v int)");
    await client.query("INSERT INTO t VALUES (1)");
    await client.end();

    server.stopServer("immediate");
    await expect(new pg.Client({ connectionString: url }).connect()).rejects.toThrow();
    server.startServer();
    const again = new pg.Client({ connectionString: url });
    await again.connect();
    const { rows } = await again.query<{ v: number }>("SELECT v FROM t");
    expect(rows).toEqual([{ v: 1 }]);
    const { rows: where } = await again.query<{ data_directory: string }>("SHOW data_directory");
    await again.end();

    server.destroy();
    expect(existsSync(where[0]?.data_directory ?? "/")).toBe(false);
  });
});
