/**
 * An account whose trail was written in the named layout (one stream entry per movement, as every
 * release before the packed layout wrote it) and then, after an upgrade, in the packed one: /ledger
 * pages (with cursors across the seam), /usage, the archive to PostgreSQL (and the reads across
 * the Redis/PostgreSQL boundary once trimmed) and a new cycle's `used` answer as for a trail
 * written in one layout.
 *
 * The named half is made from the ledger's own writes: the packed entries of the first days are
 * replaced by their movements, each its own entry with its id and named fields, as the earlier
 * release wrote them (test/integration/audit-packed.redis.test.ts shows the expansion is exactly
 * what the named layout writes). The reference is the same trail rewritten all named.
 */
import { describe, expect, it } from "vitest";
import type { LedgerPage, Usage, UsageQuery } from "@creditmeter/shared";
import { postgresAvailable, usePostgres } from "../support/use-postgres.js";
import { buildWorkload } from "../support/workload.js";
import { expandEntries, isPacked } from "../../server/src/ledger/audit-entries.js";
import { readLedgerPage, readUsage } from "../../server/src/ledger/reads.js";
import { trimAccount } from "../../server/src/history/trim.js";
import { archiveAll, archivedIds, archivedLedger, historyDatabase, trailIds, type TestClock } from "./harness.js";

const DAY = 86_400_000;
const HOUR = 3_600_000;
type Made = Awaited<ReturnType<typeof archivedLedger>>;

/** Rewrites a trail with one named entry per movement, ids kept. */
async function rewriteNamed(redis: Made["redis"], from: string, to: string): Promise<void> {
  const moves = expandEntries(await redis.xRange(from, "-", "+"));
  await redis.del(to);
  for (const m of moves) await redis.xAdd(to, m.id, m.fields);
}

/** Every page of a trail, `limit` entries a page, through `read`. */
async function pages(read: (cursor: string | undefined) => Promise<LedgerPage>): Promise<LedgerPage[]> {
  const out: LedgerPage[] = [];
  let cursor: string | undefined;
  do {
    const page = await read(cursor);
    out.push(page);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return out;
}

const GROUPS: UsageQuery["groupBy"][] = ["action", "stage", "model", "session", "day"];

describe.skipIf(!postgresAvailable)("a trail written in the named layout, then the packed one", () => {
  const postgres = usePostgres();

  it("reads, archives, trims and starts a cycle as if it were written in one layout", async () => {
    const { pool } = await historyDatabase(postgres());
    const clock: TestClock = { now: Date.now() - 10 * DAY };
    const made = await archivedLedger({ virtualClock: () => clock.now }, pool);
    const { ledger, redis } = made;
    const id = "mig";
    const log = ledger.keys(id).log;
    const t0 = clock.now;
    await ledger.putAccount(id, { plan: "pro" });
    await ledger.startCycle(id, {
      cycleId: "c1",
      credits: 1_000_000,
      start: new Date(t0 - HOUR).toISOString(),
      end: new Date(Date.now() + 30 * DAY).toISOString(),
    });
    const work = buildWorkload({
      accounts: [id],
      sessionsPerAccount: 4,
      stepsPerSession: 12,
      plan: "pro",
      seed: 77,
      tag: "mig",
    }).events;
    const days = 10;
    const perDay = Math.ceil(work.length / days);
    const runDays = async (fromDay: number, toDay: number): Promise<void> => {
      for (let day = fromDay; day < toDay; day++) {
        // Two batches a day, in one millisecond: entries of one ms from two scripts.
        const chunk = work.slice(day * perDay, (day + 1) * perDay);
        const half = Math.ceil(chunk.length / 2);
        await ledger.applyEvents(chunk.slice(0, half));
        await ledger.applyEvents(chunk.slice(half));
        clock.now += DAY;
      }
    };

    // Days 0-4 by the earlier release: the named layout.
    await runDays(0, 5);
    const seam = clock.now;
    await rewriteNamed(redis, log, log);
    expect((await redis.xRange(log, "-", "+")).some((e) => isPacked(e.message))).toBe(false);
    // Days 5-9 after the upgrade: the packed layout, on the same stream.
    await runDays(5, 10);
    clock.now = Date.now();

    // A new cycle's `used`: the charges since its start, whichever layout (or the archive) holds them.
    const chargedSince = async (start: number): Promise<number> =>
      expandEntries(await redis.xRange(log, "-", "+"))
        .filter((m) => m.fields.k === "charge" && Number(m.id.split("-")[0]) >= start)
        .reduce((s, m) => s + Number(m.fields.amt), 0);
    const cycleUsed = async (start: number, expected: number): Promise<void> => {
      const out = await ledger.startCycle(id, {
        cycleId: `c-${start}`,
        credits: 10,
        start: new Date(start).toISOString(),
        end: new Date(Date.now() + 30 * DAY).toISOString(),
      });
      expect(expected).toBeGreaterThan(0);
      expect(out.balance.used, `start ${start - t0} ms after the first day`).toBe(expected);
    };
    // From the named half, then from the packed one (the first entry at or after the start is packed).
    await cycleUsed(t0 + DAY + 7, await chargedSince(t0 + DAY + 7));
    await cycleUsed(seam + 7, await chargedSince(seam + 7));

    const entries = await redis.xRange(log, "-", "+");
    const packed = entries.filter((e) => isPacked(e.message));
    expect(packed.length).toBeGreaterThan(5);
    expect(packed.every((e) => Number(e.id.split("-")[0]) >= seam)).toBe(true);
    const movements = expandEntries(entries);
    expect(movements.length).toBeGreaterThan(entries.length);

    const ref = `${log}:named`;
    await rewriteNamed(redis, log, ref);
    const refPages = await pages((cursor) => readLedgerPage(redis, ref, cursor ? { limit: 7, cursor } : { limit: 7 }));
    const read = (cursor: string | undefined) => ledger.ledgerPage(id, cursor ? { limit: 7, cursor } : { limit: 7 });
    const mixedPages = await pages(read);
    expect(mixedPages).toEqual(refPages);
    const shown = mixedPages.flatMap((p) => p.entries.map((e) => e.id));
    expect(shown).toEqual(movements.map((m) => m.id).reverse());
    expect(new Set(shown).size).toBe(shown.length);

    // Usage windows before, across and after the seam (part days at the edges), every grouping.
    const windows: [number, number][] = [
      [t0 - DAY, Date.now()],
      [t0 + 2 * DAY + 3 * HOUR, seam + 2 * DAY - 5 * HOUR],
      [seam - 1, seam + DAY],
      [seam + DAY, Date.now()],
    ];
    const usages = async (readOne: (q: UsageQuery) => Promise<Usage>): Promise<Usage[]> => {
      const out: Usage[] = [];
      for (const [from, to] of windows)
        for (const groupBy of GROUPS)
          out.push(await readOne({ from: new Date(from).toISOString(), to: new Date(to).toISOString(), groupBy }));
      return out;
    };
    const refUsage = await usages((q) => readUsage(redis, ref, q));
    expect(refUsage[0]?.total).toBeGreaterThan(0);
    expect(refUsage[3 * GROUPS.length]?.total).toBeGreaterThan(0);
    expect(await usages((q) => ledger.usage(id, q))).toEqual(refUsage);

    // The archive: every movement once, by its own id, with the named fields.
    await archiveAll(pool, redis, log, id);
    expect(await archivedIds(pool, id)).toEqual(await trailIds(redis, log));
    const { rows } = await pool.query<{ id: string; fields: Record<string, string> }>(
      "SELECT ms || '-' || seq AS id, fields FROM ledger_entries WHERE account_id = $1 ORDER BY ms, seq",
      [id],
    );
    expect(rows).toEqual(movements.map((m) => ({ id: m.id, fields: m.fields })));
    // Trimmed up to two days after the seam: pages and usage now read across Redis and PostgreSQL.
    await trimAccount(pool, redis, made.namespace, id, { ledger, hotMs: Date.now() - seam - 2 * DAY }, Date.now());
    expect((await redis.xRange(log, "-", "+")).length).toBeLessThan(entries.length);
    expect(await pages(read)).toEqual(refPages);
    expect(await usages((q) => ledger.usage(id, q))).toEqual(refUsage);

    // Below the trim marker the charges come from the archive, the rest from Redis's packed entries.
    const belowMarker = seam + 2 * DAY - HOUR;
    const aboveMarker = seam + 3 * DAY + 11;
    const since = (start: number): number =>
      movements
        .filter((m) => m.fields.k === "charge" && Number(m.id.split("-")[0]) >= start)
        .reduce((sum, m) => sum + Number(m.fields.amt), 0);
    await cycleUsed(belowMarker, since(belowMarker));
    await cycleUsed(aboveMarker, since(aboveMarker));
  });
});
