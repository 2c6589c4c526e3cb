import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type pg from "pg";
import { createHistoryPool } from "../../server/src/history/database.js";
import { migrate } from "../../server/src/history/migrations.js";
import { notePending } from "../../server/src/history/pending.js";
import { archiveAccount, readCursor } from "../../server/src/history/archive-account.js";
import { archiveReads } from "../../server/src/history/archive-reads.js";
import type { ArchiveReads } from "../../server/src/ledger/api.js";
import { expandEntries } from "../../server/src/ledger/audit-entries.js";
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

/**
 * A test ledger whose scripts note their accounts for the archiver, as the server's does, and
 * which reads the archive in `pool` (when given) where its trail is trimmed.
 */
export async function archivedLedger(
  overrides: Parameters<typeof testLedger>[0] = {},
  pool?: pg.Pool,
): ReturnType<typeof testLedger> {
  // The archive reads need the ledger's own Redis client, made by testLedger: bound once it exists.
  let reads: ArchiveReads | null = null;
  const bound = (): ArchiveReads => {
    if (!reads) throw new Error("archive reads used before the test ledger was made");
    return reads;
  };
  const made = await testLedger({
    ...overrides,
    onAudit: (ids) => void notePending(made.redis, made.namespace, ids),
    archive: pool
      ? {
          chargesBetween: (...a) => bound().chargesBetween(...a),
          usage: (...a) => bound().usage(...a),
          ledgerPage: (...a) => bound().ledgerPage(...a),
        }
      : undefined,
  });
  if (pool) reads = archiveReads(pool, made.redis);
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

/** Every movement id of an account's trail (packed entries expanded), oldest first. */
export async function trailIds(redis: Awaited<ReturnType<typeof testLedger>>["redis"], log: string): Promise<string[]> {
  return expandEntries(await redis.xRange(log, "-", "+")).map((m) => m.id);
}

/** Every archived id of an account, oldest first. */
export async function archivedIds(pool: pg.Pool, accountId: string): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(
    "SELECT ms || '-' || seq AS id FROM ledger_entries WHERE account_id = $1 ORDER BY ms, seq",
    [accountId],
  );
  return rows.map((r) => r.id);
}

/** True when the account's cursor is its trail's last movement id. */
export async function caughtUp(
  pool: pg.Pool,
  redis: Awaited<ReturnType<typeof testLedger>>["redis"],
  log: string,
  accountId: string,
): Promise<boolean> {
  const last = expandEntries(await redis.xRevRange(log, "+", "-", { COUNT: 1 })).at(-1);
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

/** A test clock the ledger's scripts read (virtualClock), moved by the test. */
export interface TestClock {
  now: number;
}

/**
 * `days` days of the same work on each account (a cycle from the start, then one chunk of a
 * workload's events per day, the clock moved a day after each), ending with the clock at now.
 */
export async function daysOfWork(
  ledger: Awaited<ReturnType<typeof testLedger>>["ledger"],
  clock: TestClock,
  accounts: string[],
  days: number,
  seed: number,
): Promise<void> {
  const end = new Date(Date.now() + 30 * 86_400_000).toISOString();
  for (const accountId of accounts) {
    await ledger.putAccount(accountId, { plan: "pro" });
    await ledger.startCycle(accountId, {
      cycleId: "c1",
      credits: 1_000_000,
      start: new Date(clock.now - 3_600_000).toISOString(),
      end,
    });
  }
  const work = buildWorkload({
    accounts: ["model"],
    sessionsPerAccount: 6,
    stepsPerSession: 12,
    plan: "pro",
    seed,
    tag: `d${seed}`,
  }).events;
  const perDay = Math.ceil(work.length / days);
  for (let day = 0; day < days; day++) {
    const chunk = work.slice(day * perDay, (day + 1) * perDay);
    await ledger.applyEvents(
      accounts.flatMap((accountId) => chunk.map((e) => ({ ...e, accountId, eventId: `${e.eventId}-${accountId}` }))),
    );
    clock.now += 86_400_000;
  }
  clock.now = Date.now();
}

/** Copies an account's whole trail (as the archiver would, in one process). */
export async function archiveAll(
  pool: pg.Pool,
  redis: Awaited<ReturnType<typeof testLedger>>["redis"],
  log: string,
  accountId: string,
): Promise<void> {
  for (
    let r = await archiveAccount(pool, redis, log, accountId);
    r.state === "copied" && r.more;
    r = await archiveAccount(pool, redis, log, accountId)
  );
}
