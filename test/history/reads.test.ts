import { describe, expect, it } from "vitest";
import type { LedgerPage, Usage, UsageQuery } from "@creditmeter/shared";
import { postgresAvailable, usePostgres } from "../support/use-postgres.js";
import { call, startTestApp, testConfig } from "../../server/src/http/test-harness.test-support.js";
import { trimAccount } from "../../server/src/history/trim.js";
import { archiveAll, archivedLedger, daysOfWork, historyDatabase, type TestClock } from "./harness.js";

const DAY = 86_400_000;
const HOUR = 3_600_000;
type Ledger = Awaited<ReturnType<typeof archivedLedger>>["ledger"];

/** Every page of an account's trail, newest first, `limit` entries a page. */
async function allPages(ledger: Ledger, accountId: string, limit: number): Promise<LedgerPage[]> {
  const pages: LedgerPage[] = [];
  let cursor: string | undefined;
  do {
    const page = await ledger.ledgerPage(accountId, cursor ? { limit, cursor } : { limit });
    pages.push(page);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return pages;
}

/** Usage over windows before, across and after the hot boundary (part days at both edges), every grouping. */
async function usages(ledger: Ledger, accountId: string, now: number): Promise<Usage[]> {
  const windows: [number, number][] = [
    [now - 21 * DAY, now],
    [now - 10 * DAY + 3 * HOUR, now - 2 * DAY - 5 * HOUR],
    [now - 15 * DAY + 5 * HOUR, now - 9 * DAY - HOUR],
    [now - 12 * DAY - 7 * HOUR, now - 11 * DAY + 2 * HOUR],
    [now - 6 * DAY, now],
  ];
  const out: Usage[] = [];
  for (const [from, to] of windows) {
    for (const groupBy of ["action", "stage", "model", "session", "day"] as UsageQuery["groupBy"][]) {
      out.push(
        await ledger.usage(accountId, { from: new Date(from).toISOString(), to: new Date(to).toISOString(), groupBy }),
      );
    }
  }
  return out;
}

describe.skipIf(!postgresAvailable)("reads across the hot boundary", () => {
  const postgres = usePostgres();

  it("/ledger pages and /usage windows answer the same before and after trimming, and 503 while PostgreSQL is down", async () => {
    const { pool } = await historyDatabase(postgres());
    const clock: TestClock = { now: Date.now() - 20 * DAY };
    const { ledger, redis, namespace } = await archivedLedger({ virtualClock: () => clock.now }, pool);
    await daysOfWork(ledger, clock, ["reader"], 20, 23);
    const log = ledger.keys("reader").log;
    await archiveAll(pool, redis, log, "reader");
    const now = Date.now();
    const pagesBefore = await allPages(ledger, "reader", 7);
    const usageBefore = await usages(ledger, "reader", now);
    expect(pagesBefore.length).toBeGreaterThan(10);
    // Every window has charges to compare (one grouping per window suffices: all share a total).
    for (let w = 0; w < usageBefore.length; w += 5) expect(usageBefore[w]?.total).toBeGreaterThan(0);

    const removed = await trimAccount(pool, redis, namespace, "reader", { ledger, hotMs: 7 * DAY }, now);
    // Stream entries (a packed one holds several movements).
    expect(removed).toBeGreaterThan(15);
    // Same entries, same ids, same cursors, page for page; same groups for every window.
    expect(await allPages(ledger, "reader", 7)).toEqual(pagesBefore);
    expect(await allPages(ledger, "reader", 100)).toEqual(await allPagesUntrimmedEquivalent(pagesBefore, 100));
    expect(await usages(ledger, "reader", now)).toEqual(usageBefore);

    const app = await startTestApp({ ledger, config: testConfig({ usageMaxDays: 400 }) });
    const token = await app.token("ops");
    postgres().stopServer("fast");
    try {
      // Reads that need the archive: 503 unavailable; reads within the hot window still answer.
      const deep = await call(
        app,
        "GET",
        `/v1/accounts/reader/usage?from=${new Date(now - 15 * DAY).toISOString()}&groupBy=day`,
        { token },
      );
      expect(deep.status).toBe(503);
      expect(deep.body).toMatchObject({ error: { code: "unavailable" } });
      const recent = await call(
        app,
        "GET",
        `/v1/accounts/reader/usage?from=${new Date(now - 6 * DAY).toISOString()}&to=${new Date(now).toISOString()}&groupBy=day`,
        { token },
      );
      expect(recent.status).toBe(200);
      expect(recent.body).toEqual(usageBefore[24]);
      const last = pagesBefore.at(-2)?.nextCursor ?? "";
      const page = await call(app, "GET", `/v1/accounts/reader/ledger?limit=7&cursor=${last}`, { token });
      expect(page.status).toBe(503);
      expect(page.body).toMatchObject({ error: { code: "unavailable" } });
      const first = await call(app, "GET", "/v1/accounts/reader/ledger?limit=7", { token });
      expect(first.body).toEqual(pagesBefore[0]);
      // Writes go on and stay in Redis until copied.
      await ledger.adjust("reader", { adjustmentId: "while-down", credits: 3, reason: "r" });
      await expect(archiveAll(pool, redis, log, "reader")).rejects.toThrow();
    } finally {
      postgres().startServer();
      await app.close();
    }
    await archiveAll(pool, redis, log, "reader");
    const [newest] = await redis.xRevRange(log, "+", "-", { COUNT: 1 });
    const { rows } = await pool.query(
      "SELECT 1 FROM ledger_entries WHERE account_id = 'reader' AND ms || '-' || seq = $1",
      [newest?.id],
    );
    expect(rows).toHaveLength(1);
    await pool.end();
    await redis.close();
  });
});

/** The pages of `limit` entries the same trail gives (from its pages of another size). */
function allPagesUntrimmedEquivalent(pages: LedgerPage[], limit: number): LedgerPage[] {
  const entries = pages.flatMap((p) => p.entries);
  const out: LedgerPage[] = [];
  for (let i = 0; i < entries.length; i += limit) {
    const page = entries.slice(i, i + limit);
    out.push({ entries: page, nextCursor: i + limit < entries.length ? (page.at(-1)?.id ?? null) : null });
  }
  return out;
}
