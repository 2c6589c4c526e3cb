import { describe, expect, it } from "vitest";
import type { Balance } from "@creditmeter/shared";
import { RedisLedger } from "@creditmeter/server";
import { postgresAvailable, usePostgres } from "../support/use-postgres.js";
import { archiveAccount, readCursor } from "../../server/src/history/archive-account.js";
import { expandEntries } from "../../server/src/ledger/audit-entries.js";
import { trimAccount } from "../../server/src/history/trim.js";
import { archiveAll, archivedLedger, daysOfWork, historyDatabase, type TestClock } from "./harness.js";
import { LEDGER_DEFAULTS } from "../support/ledger.js";

const DAY = 86_400_000;

/** `balance` without the account's own id, for comparing twins. */
function sameAs(b: Balance): Omit<Balance, "accountId"> {
  const { accountId: _id, ...rest } = b;
  return rest;
}

describe.skipIf(!postgresAvailable)("trimming the hot trail", () => {
  const postgres = usePostgres();

  it("removes only archived entries older than the hot window, and changes no balance or cycle's `used`", async () => {
    const { pool } = await historyDatabase(postgres());
    const clock: TestClock = { now: Date.now() - 20 * DAY };
    const { ledger, redis, namespace } = await archivedLedger({ virtualClock: () => clock.now }, pool);
    const accounts = ["trimmed", "twin"];
    // The same 20 days of work on both accounts: "trimmed" gets archived and trimmed, "twin" not.
    await daysOfWork(ledger, clock, accounts, 20, 11);
    const log = ledger.keys("trimmed").log;
    const before = await redis.xRange(log, "-", "+");
    await archiveAll(pool, redis, log, "trimmed");
    const balances = await Promise.all(accounts.map((a) => ledger.balance(a)));
    expect(sameAs(balances[0] as Balance)).toEqual(sameAs(balances[1] as Balance));

    const removed = await trimAccount(pool, redis, namespace, "trimmed", { ledger, hotMs: 7 * DAY }, Date.now());
    const after = await redis.xRange(log, "-", "+");
    expect(removed).toBeGreaterThan(0);
    expect(after.length).toBe(before.length - removed);
    // What is left is exactly the suffix of the entries from the hot window on.
    const hotFrom = Date.now() - 7 * DAY;
    expect(after.map((e) => e.id)).toEqual(
      before.filter((e) => Number(e.id.split("-")[0]) >= hotFrom).map((e) => e.id),
    );
    expect(Number(await redis.get(ledger.keys("trimmed").trimmed))).toBeLessThanOrEqual(hotFrom);

    expect(sameAs(await ledger.balance("trimmed"))).toEqual(sameAs(await ledger.balance("twin")));
    // A backdated cycle whose start lies in the trimmed part: its `used` counts the charges since
    // `start`, those now only in PostgreSQL included, exactly as on the untrimmed twin.
    const start = Date.now() - 15 * DAY;
    const c2 = {
      cycleId: "c2",
      credits: 500,
      start: new Date(start).toISOString(),
      end: new Date(Date.now() + 30 * DAY).toISOString(),
    };
    const [trimmedAfter, twinAfter] = [await ledger.startCycle("trimmed", c2), await ledger.startCycle("twin", c2)];
    const moves = expandEntries(before);
    const expected = moves
      .filter((m) => m.fields.k === "charge" && Number(m.id.split("-")[0]) >= start)
      .reduce((sum, m) => sum + Number(m.fields.amt), 0);
    const inTrimmedPart = moves.filter(
      (m) => m.fields.k === "charge" && Number(m.id.split("-")[0]) >= start && Number(m.id.split("-")[0]) < hotFrom,
    );
    expect(inTrimmedPart.length).toBeGreaterThan(0);
    expect(trimmedAfter.balance.used).toBe(expected);
    expect(sameAs(trimmedAfter.balance)).toEqual(sameAs(twinAfter.balance));
    await pool.end();
    await redis.close();
  });

  it("never removes what is not archived yet, even with no hot retention", async () => {
    const { pool } = await historyDatabase(postgres());
    const { ledger, redis, namespace } = await archivedLedger({}, pool);
    await ledger.putAccount("partial", { plan: "pro" });
    for (let i = 0; i < 30; i++) await ledger.adjust("partial", { adjustmentId: `a${i}`, credits: 1, reason: "r" });
    const log = ledger.keys("partial").log;
    await archiveAccount(pool, redis, log, "partial", 12);
    const cursor = (await readCursor(pool, "partial")) ?? "";
    const unarchived = (await redis.xRange(log, `(${cursor}`, "+")).map((e) => e.id);
    expect(unarchived.length).toBeGreaterThan(0);
    await trimAccount(pool, redis, namespace, "partial", { ledger, hotMs: 0 }, Date.now() + DAY);
    const left = (await redis.xRange(log, "-", "+")).map((e) => e.id);
    expect(left.slice(-unarchived.length)).toEqual(unarchived);
    // Only the cursor's own millisecond may stay below it.
    const cursorMs = cursor.split("-")[0];
    expect(left.slice(0, left.length - unarchived.length).every((id) => id.split("-")[0] === cursorMs)).toBe(true);
    await pool.end();
    await redis.close();
  });

  it("drops from the archive whole days older than the ledger retention, as Redis would", async () => {
    const { pool } = await historyDatabase(postgres());
    const clock: TestClock = { now: Date.now() - 20 * DAY };
    const { ledger, redis, namespace } = await archivedLedger({ virtualClock: () => clock.now }, pool);
    await daysOfWork(ledger, clock, ["old"], 20, 5);
    await archiveAll(pool, redis, ledger.keys("old").log, "old");
    const now = Date.now();
    const keep = Math.floor((now - 10 * DAY) / DAY) * DAY;
    const { rows: expected } = await pool.query<{ n: string }>(
      "SELECT count(*)::text AS n FROM ledger_entries WHERE account_id = 'old' AND ms >= $1",
      [keep],
    );
    await trimAccount(pool, redis, namespace, "old", { ledger, hotMs: 7 * DAY, retentionMs: 10 * DAY }, now);
    const { rows } = await pool.query<{ n: string; oldest: string }>(
      "SELECT count(*)::text AS n, min(ms)::text AS oldest FROM ledger_entries WHERE account_id = 'old'",
    );
    expect(rows[0]?.n).toBe(expected[0]?.n);
    expect(Number(rows[0]?.oldest)).toBeGreaterThanOrEqual(keep);
    const { rows: days } = await pool.query<{ day: number }>(
      "SELECT min(day) AS day FROM usage_rollup WHERE account_id = 'old'",
    );
    expect((days[0]?.day ?? 0) * DAY).toBeGreaterThanOrEqual(keep);
    await pool.end();
    await redis.close();
  });

  it("without the archive, a backdated cycle or a read into a trimmed trail answers unavailable, writing nothing", async () => {
    const { pool } = await historyDatabase(postgres());
    const { ledger, redis, namespace } = await archivedLedger({}, pool);
    await ledger.putAccount("noarch", { plan: "pro" });
    await ledger.adjust("noarch", { adjustmentId: "a1", credits: 5, reason: "r" });
    const log = ledger.keys("noarch").log;
    await archiveAccount(pool, redis, log, "noarch");
    await new Promise((r) => setTimeout(r, 5));
    await ledger.adjust("noarch", { adjustmentId: "a2", credits: 5, reason: "r" });
    await archiveAccount(pool, redis, log, "noarch");
    await trimAccount(pool, redis, namespace, "noarch", { ledger, hotMs: 0 }, Date.now());
    const withoutArchive = new RedisLedger({
      redis,
      namespace,
      ...LEDGER_DEFAULTS,
      idempotencyRetentionSeconds: 86400,
    });
    const length = await redis.xLen(log);
    await expect(
      withoutArchive.startCycle("noarch", {
        cycleId: "c",
        credits: 1,
        start: new Date(Date.now() - DAY).toISOString(),
        end: new Date(Date.now() + DAY).toISOString(),
      }),
    ).rejects.toMatchObject({ code: "unavailable" });
    expect(await redis.xLen(log)).toBe(length);
    // Reads that reach below the marker would be silently short without the archive: unavailable too.
    await expect(withoutArchive.ledgerPage("noarch", { limit: 50 })).rejects.toMatchObject({ code: "unavailable" });
    await expect(withoutArchive.usage("noarch", { groupBy: "action" })).rejects.toMatchObject({ code: "unavailable" });
    // What lies wholly in Redis still answers: a page with more after it, a window from the marker on.
    await ledger.adjust("noarch", { adjustmentId: "a3", credits: 5, reason: "r" });
    const marker = Number(await redis.get(ledger.keys("noarch").trimmed));
    expect((await withoutArchive.ledgerPage("noarch", { limit: 1 })).entries).toHaveLength(1);
    const hot = await withoutArchive.usage("noarch", { from: new Date(marker).toISOString(), groupBy: "action" });
    expect(hot.total).toBe(0);
    await pool.end();
    await redis.close();
  });
});
