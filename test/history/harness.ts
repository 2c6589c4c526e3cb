import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type pg from "pg";
import { createHistoryPool } from "../../server/src/history/database.js";
import { migrate } from "../../server/src/history/migrations.js";
import { notePending } from "../../server/src/history/pending.js";
import { readCursor } from "../../server/src/history/archive-account.js";
import { testLedger } from "../support/ledger.js";
import type { TestPostgres } from "../support/postgres-server.js";
import { buildWorkload } from "../support/workload.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** A fresh database of the file's cluster, migrated, with a pool on it. */
export async function historyDatabase(server: TestPostgres): Promise<{ url: string; pool: pg.Pool }> {
  const url = await server.createDatabase();
  const pool = createHistoryPool(url, () => undefined);
  await migrate(pool);
  return { url, pool };
}

/** A test ledger whose scripts note their accounts for the archiver, as the server's does. */
export async function archivedLedger(overrides: Parameters<typeof testLedger>[0] = {}): ReturnType<typeof testLedger> {
  const made = await testLedger({
    ...overrides,
    onAudit: (ids) => void notePending(made.redis, made.namespace, ids),
  });
  return made;
}

/** Accounts with a cycle, and their workload's events (holds, charges, releases). */
export async function seedWorkload(
  ledger: Awaited<ReturnType<typeof testLedger>>["ledger"],
  accounts: string[],
  stepsPerSession: number,
  seed: number,
): Promise<import("@creditmeter/shared").StageEvent[]> {
  for (const accountId of accounts) {
    await ledger.putAccount(accountId, { plan: "pro" });
    await ledger.startCycle(accountId, {
      cycleId: `c-${accountId}`,
      credits: 1_000_000,
      start: new Date(Date.now() - 3_600_000).toISOString(),
      end: new Date(Date.now() + 30 * 86_400_000).toISOString(),
    });
  }
  return buildWorkload({ accounts, sessionsPerAccount: 2, stepsPerSession, plan: "pro", seed, tag: `h${seed}` }).events;
}

/** Every stream id of an account's trail, oldest first. */
export async function trailIds(redis: Awaited<ReturnType<typeof testLedger>>["redis"], log: string): Promise<string[]> {
  return (await redis.xRange(log, "-", "+")).map((e) => e.id);
}

/** Every archived id of an account, oldest first. */
export async function archivedIds(pool: pg.Pool, accountId: string): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(
    "SELECT ms || '-' || seq AS id FROM ledger_entries WHERE account_id = $1 ORDER BY ms, seq",
    [accountId],
  );
  return rows.map((r) => r.id);
}

/** True when the account's cursor is its trail's last id. */
export async function caughtUp(
  pool: pg.Pool,
  redis: Awaited<ReturnType<typeof testLedger>>["redis"],
  log: string,
  accountId: string,
): Promise<boolean> {
  const [last] = await redis.xRevRange(log, "+", "-", { COUNT: 1 });
  return last !== undefined && (await readCursor(pool, accountId)) === last.id;
}

/** An archiver in a process of its own (archiver-child.ts), to be killed at will. */
export function spawnArchiver(
  redisUrl: string,
  databaseUrl: string,
  namespace: string,
): { proc: ChildProcess; ready: Promise<void>; exited: Promise<unknown> } {
  const proc = spawn(process.execPath, ["--conditions=source", "--import", "tsx", "test/history/archiver-child.ts"], {
    cwd: ROOT,
    env: { ...process.env, CHILD_REDIS_URL: redisUrl, CHILD_DATABASE_URL: databaseUrl, CHILD_NAMESPACE: namespace },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const ready = new Promise<void>((resolve, reject) => {
    proc.stdout?.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("ready")) resolve();
    });
    proc.once("exit", (code) => reject(new Error(`archiver child exited (${code}) before it was ready`)));
  });
  ready.catch(() => undefined);
  const exited = new Promise((resolve) => proc.once("exit", resolve));
  return { proc, ready, exited };
}
