import pg from "pg";
import { createClient, type RedisClientType } from "redis";
import type { UsageQuery } from "@creditmeter/shared";
import { startPostgres } from "../../test/support/postgres-server.js";
import { startRedis } from "../../test/support/redis-server.js";
import { createHistoryPool } from "../../server/src/history/database.js";
import { migrate } from "../../server/src/history/migrations.js";
import { readLedgerWithArchive, readUsageWithArchive } from "../../server/src/history/history-reads.js";
import { accountKeys } from "../../server/src/ledger/keys.js";
import { guardLedger, startTestApp, testConfig } from "../../server/src/http/test-harness.test-support.js";
import { readFileSync } from "node:fs";
// pino-http's `req.id` on requests (read by the app's routes) into this program's types.
import type {} from "pino-http";
import { report, table } from "../support/report.js";
import { fmt } from "../support/stats.js";
import type { ScenarioOptions } from "./options.js";

const DAY = 86_400_000;
const ACCOUNT = "busy";
const NAMESPACE = "bench-history";
const RUNS = 7;
const GROUPINGS: UsageQuery["groupBy"][] = ["action", "stage", "model", "session", "day"];

// A year of one busy account, in one statement: a hold, a charge and a release per step, the
// actions of a video in turn, 11 steps (33 entries) per session, a model on animations.
const GENERATE = `
  WITH actions (n, act, stg) AS (VALUES
    (0, 'web_research', 'research'), (1, 'script', 'research'), (2, 'creative_brief', 'research'),
    (3, 'storyboard', 'storyboard'), (4, 'brand_style', 'storyboard'), (5, 'image', 'keyframes'),
    (6, 'voiceover', 'voiceover'), (7, 'music', 'voiceover'), (8, 'animation', 'animation'),
    (9, 'talking_head', 'animation'), (10, 'animation', 'animation'))
  INSERT INTO ledger_entries (account_id, ms, seq, kind, amount, action_key, stage_key, model_key, session_key, fields)
  SELECT $1, $2::bigint + g.i * $3::bigint, 0, g.k, g.amt, g.act, g.stg, g.mdl, g.sid,
    jsonb_build_object('k', g.k, 'amt', g.amt::text, 'act', g.act, 'stg', g.stg, 'sid', g.sid,
      'av', '100000', 'hd', '0', 'od', '0', 'cum', (g.i / 3 * 30)::text)
  FROM (
    SELECT i, (ARRAY['hold', 'charge', 'release'])[1 + i % 3] AS k, 1 + (i * 7919) % 60 AS amt,
      a.act, a.stg, CASE WHEN a.act = 'animation' THEN (ARRAY['veo-3.1-fast', 'sora-2-pro'])[1 + (i / 33) % 2] ELSE 'none' END AS mdl,
      'sess-' || (i / 33) AS sid
    FROM generate_series(0, $4::bigint - 1) AS i JOIN actions a ON a.n = (i / 3) % 11
  ) g`;

// The rollup the archiver keeps batch by batch, built here in one statement (the same as migration 2's backfill).
const ROLLUP = `
  INSERT INTO usage_rollup (account_id, dim, day, key, credits, count)
  SELECT account_id, d.dim, (ms / 86400000)::integer, d.key, sum(amount), count(*)
  FROM ledger_entries
  CROSS JOIN LATERAL (VALUES ('action', action_key), ('stage', stage_key), ('model', model_key), ('session', session_key)) AS d (dim, key)
  WHERE kind = 'charge' GROUP BY 1, 2, 3, 4`;

// What /usage would cost without the rollup: every charge of the year, grouped.
const RAW = `SELECT action_key, sum(amount), count(*) FROM ledger_entries WHERE account_id = $1 AND kind = 'charge' AND ms >= $2 AND ms < $3 GROUP BY 1`;

/**
 * CPU ms used so far by PostgreSQL backends `pids` (Linux /proc; NaN elsewhere): with other jobs
 * on the machine, wall times stretch and CPU times say what a read itself costs.
 */
function backendCpuMs(pids: number[]): number {
  try {
    let ticks = 0;
    for (const pid of pids) {
      const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
      ticks += Number(f[11]) + Number(f[12]);
    }
    return ticks * 10; // USER_HZ = 100
  } catch {
    return Number.NaN;
  }
}

interface Timed {
  /** Wall ms of each run, ascending. */
  ms: number[];
  /** Mean CPU ms per run of this process (node) and of the PostgreSQL backends. */
  nodeCpu: number;
  pgCpu: number;
}

async function timed(fn: () => Promise<unknown>, pids: number[] = []): Promise<Timed> {
  const ms: number[] = [];
  const cpu0 = process.cpuUsage();
  const pg0 = backendCpuMs(pids);
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  const cpu = process.cpuUsage(cpu0);
  return {
    ms: ms.sort((a, b) => a - b),
    nodeCpu: (cpu.user + cpu.system) / 1000 / RUNS,
    pgCpu: (backendCpuMs(pids) - pg0) / RUNS,
  };
}

const median = (t: Timed): string => fmt(t.ms[Math.floor(RUNS / 2)] ?? NaN);
const row = (label: string, groups: number, t: Timed): (string | number)[] => [
  label,
  groups,
  median(t),
  fmt(t.ms.at(-1) ?? NaN),
  `${fmt(t.nodeCpu)} + ${fmt(t.pgCpu)}`,
];

/** `/usage` over a year of one busy account from PostgreSQL (docs/history.md), and a deep `/ledger` page. */
export async function history(opts: ScenarioOptions): Promise<unknown> {
  const n = opts.quick ? 200_000 : 1_100_000;
  // PostgreSQL's default buffers (the test fixture's are small), as a production server would have at least.
  const server = await startPostgres(["shared_buffers=128MB"]);
  const redisServer = await startRedis();
  const redis: RedisClientType = createClient({ url: redisServer.url });
  await redis.connect();
  const url = await server.createDatabase();
  const pool = createHistoryPool(url, () => undefined);
  try {
    await migrate(pool);
    const now = Date.now();
    const from = now - 365 * DAY;
    const t0 = performance.now();
    // Loading takes longer than the pool's statement timeout (made for reads): a client of its own.
    const loader = new pg.Client({ connectionString: url });
    await loader.connect();
    await loader.query(GENERATE, [ACCOUNT, from, Math.floor((365 * DAY) / n), n]);
    await loader.query(ROLLUP);
    await loader.query("ANALYZE");
    await loader.end();
    const loadS = (performance.now() - t0) / 1000;
    // Redis holds the hot week only: the trim marker a week back, and the newest entries.
    const keys = accountKeys(NAMESPACE, ACCOUNT);
    await redis.set(keys.trimmed, String(now - 7 * DAY));
    for (let i = 0; i < 200; i++)
      await redis.xAdd(keys.log, "*", {
        k: "charge",
        amt: "5",
        act: "script",
        stg: "research",
        sid: "sess-hot",
        av: "1",
        hd: "0",
        od: "0",
        cum: "0",
      });

    const query = (groupBy: UsageQuery["groupBy"]): UsageQuery => ({
      from: new Date(from).toISOString(),
      to: new Date(now).toISOString(),
      groupBy,
    });
    const rows: (string | number)[][] = [];
    const results: Record<string, unknown> = {};
    // The pool's backends (one, as reads run one at a time), for their CPU time.
    await Promise.all([pool.query("SELECT 1"), pool.query("SELECT 1")]);
    const { rows: backends } = await pool.query<{ pid: number }>(
      "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
    );
    const pids = [
      ...backends.map((b) => b.pid),
      ...(await pool.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows.map((b) => b.pid),
    ];
    for (const groupBy of GROUPINGS) {
      let groups = 0;
      const times = await timed(async () => {
        groups = (await readUsageWithArchive(pool, redis, keys, query(groupBy))).groups.length;
      }, pids);
      rows.push(row(`/usage a year, groupBy=${groupBy}`, groups, times));
      results[groupBy] = { groups, ...times };
    }
    // The same read over HTTP: auth, validation, JSON encoding (express), the bytes to a client.
    const app = await startTestApp({
      config: testConfig({ usageMaxDays: 366 }),
      ledger: {
        ...guardLedger([]),
        usage: (accountId, q) => readUsageWithArchive(pool, redis, accountKeys(NAMESPACE, accountId), q),
      },
    });
    try {
      const token = await app.token("ops");
      const q = query("session");
      const url = `${app.url}/v1/accounts/${ACCOUNT}/usage?from=${q.from}&to=${q.to}&groupBy=session`;
      let bytes = 0;
      const http = await timed(async () => {
        const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
        if (res.status !== 200) throw new Error(`GET /usage answered ${res.status}`);
        bytes = (await res.arrayBuffer()).byteLength;
      }, pids);
      rows.push(row(`GET /usage over HTTP, groupBy=session (${(bytes / 1e6).toFixed(1)} MB)`, 33_334, http));
      results.httpSession = { bytes, ...http };
    } finally {
      await app.close();
    }
    const raw = await timed(() => pool.query(RAW, [ACCOUNT, from, now]), pids);
    rows.push(row("(no rollup: every charge of the year grouped by action, SQL alone)", 11, raw));
    const middle = `${from + 180 * DAY}-0`;
    const page = await timed(() => readLedgerWithArchive(pool, redis, keys, { limit: 100, cursor: middle }), pids);
    rows.push(row("/ledger page of 100, half a year back", 100, page));
    const { rows: counts } = await pool.query<{ entries: string; rollup: string; size: string }>(
      "SELECT (SELECT count(*) FROM ledger_entries)::text AS entries, (SELECT count(*) FROM usage_rollup)::text AS rollup, pg_size_pretty(pg_database_size(current_database())) AS size",
    );
    const c = counts[0];
    const md =
      table(["read", "groups / entries", "median ms", "max ms", "CPU ms per read: node + PostgreSQL"], rows) +
      `\n\n${c?.entries} archived entries (a third of them charges) over 365 days of one account, ${c?.rollup} rollup rows, database ${c?.size}; loaded in ${loadS.toFixed(1)} s; ${RUNS} runs each (CPU: mean per read, this process and the pool's PostgreSQL backends; the HTTP row's node CPU includes the fetch client); PostgreSQL ${server.version}.\n`;
    const data = {
      entries: Number(c?.entries),
      rollupRows: Number(c?.rollup),
      loadSeconds: loadS,
      usage: results,
      rawMs: raw,
      ledgerPageMs: page,
    };
    report("history", "7. History in PostgreSQL: a year of one busy account", md, data, opts.quick);
    return data;
  } finally {
    await pool.end();
    await redis.close();
    await redisServer.stop();
    server.destroy();
  }
}
