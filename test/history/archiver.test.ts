import { describe, expect, it } from "vitest";
import { ACTIONS, AdjustmentBody, StageEventSchema } from "@creditmeter/shared";
import { waitFor } from "../support/redis-server.js";
import { testLedger } from "../support/ledger.js";
import { postgresAvailable, usePostgres } from "../support/use-postgres.js";
import { startArchiver } from "../../server/src/history/archiver.js";
import { notePending, pendingKey } from "../../server/src/history/pending.js";
import { archivedIds, archivedLedger, caughtUp, historyDatabase, trailIds } from "./harness.js";

describe.skipIf(!postgresAvailable)("the archiver", () => {
  const postgres = usePostgres();

  it("copies a new entry to PostgreSQL within 5 s at its default pace, with every field", async () => {
    const { pool } = await historyDatabase(postgres());
    const { ledger, redis, namespace } = await archivedLedger();
    const archiver = startArchiver({ pool, redis, namespace, onError: () => undefined });
    try {
      await ledger.putAccount("fast", { plan: "pro" });
      await ledger.adjust("fast", { adjustmentId: "adj-1", credits: -5, reason: "refund" }, "ops-key-1");
      const written = Date.now();
      const log = ledger.keys("fast").log;
      await waitFor(() => caughtUp(pool, redis, log, "fast"), 5000, "the entry archived");
      expect(Date.now() - written).toBeLessThan(5000);
      const [entry] = await redis.xRange(log, "-", "+");
      const { rows } = await pool.query<{ fields: Record<string, string> }>(
        "SELECT fields FROM ledger_entries WHERE account_id = 'fast'",
      );
      expect(rows.map((r) => r.fields)).toEqual([entry?.message]);
    } finally {
      await archiver.stop();
      await pool.end();
      await redis.close();
    }
  });

  it("finds a trail whose hint was lost (a process died between its script and the hint) by its scan", async () => {
    const { pool } = await historyDatabase(postgres());
    // A ledger without the hint: as if every write's process had died right after its script.
    const { ledger, redis, namespace } = await testLedger();
    await ledger.putAccount("lost", { plan: "pro" });
    await ledger.adjust("lost", { adjustmentId: "adj-1", credits: 7, reason: "goodwill" });
    expect(await redis.zCard(pendingKey(namespace))).toBe(0);
    const archiver = startArchiver({ pool, redis, namespace, intervalMs: 50, onError: () => undefined });
    try {
      const log = ledger.keys("lost").log;
      await waitFor(() => caughtUp(pool, redis, log, "lost"), 10_000, "the scan's find archived");
      expect(await archivedIds(pool, "lost")).toEqual(await trailIds(redis, log));
      // Caught up: a second scan notes nothing.
      expect(await archiver.scan()).toBe(0);
    } finally {
      await archiver.stop();
      await pool.end();
      await redis.close();
    }
  });

  it("moves an account that keeps failing behind the others, so 200 of them do not stop the rest", async () => {
    const { pool } = await historyDatabase(postgres());
    const { ledger, redis, namespace } = await archivedLedger();
    // 200 trails with an entry the archive refuses, noted before a healthy account.
    const poisoned = Array.from({ length: 200 }, (_, i) => `poison-${i}`);
    for (const id of poisoned) await redis.xAdd(ledger.keys(id).log, "*", { k: "adjustment", amt: "1.5" });
    await notePending(redis, namespace, poisoned, Date.now() - 60_000);
    await ledger.putAccount("healthy", { plan: "pro" });
    await ledger.adjust("healthy", { adjustmentId: "adj-1", credits: 7, reason: "goodwill" });
    const archiver = startArchiver({ pool, redis, namespace, intervalMs: 3_600_000, onError: () => undefined });
    try {
      await archiver.pass();
      await archiver.pass();
      const log = ledger.keys("healthy").log;
      expect(await trailIds(redis, log)).toHaveLength(1);
      expect(await archivedIds(pool, "healthy")).toEqual(await trailIds(redis, log));
    } finally {
      await archiver.stop();
      await pool.end();
      await redis.close();
    }
  });
});

describe("text that reaches the trail", () => {
  // PostgreSQL refuses a NUL in text and jsonb ("unsupported Unicode escape sequence"): one such
  // entry would fail its account's archive on every pass, so the boundary refuses it.
  it("refuses a NUL character in an adjustment's reason and an event's model", () => {
    const adjustment = { adjustmentId: "adj-1", credits: 5, reason: "a\u0000b" };
    expect(AdjustmentBody.safeParse(adjustment).success).toBe(false);
    expect(AdjustmentBody.safeParse({ ...adjustment, reason: "ab" }).success).toBe(true);
    const event = {
      v: 1,
      eventId: "e-1",
      type: "stage.completed",
      accountId: "acct",
      sessionId: "s",
      stepId: "st-1",
      action: ACTIONS[0],
      occurredAt: new Date().toISOString(),
    };
    expect(StageEventSchema.safeParse({ ...event, model: "m\u0000" }).success).toBe(false);
    expect(StageEventSchema.safeParse({ ...event, model: "m" }).success).toBe(true);
  });
});
