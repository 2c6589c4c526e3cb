import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import type { RedisClientType } from "redis";
import type { LedgerOutcome, RedisLedger } from "@creditmeter/server";
import { cycle, testLedger } from "../support/ledger.js";
import { completed } from "../realtime/harness.js";

// The account's pending raises (docs/webhooks.md "The gap", lib/raised.lua): an alert kept until
// its webhooks are queued is not replaced by a newer one raised before it was (a crash between a
// script and its queueing, then another call); the mark removes exactly the texts queued; the one
// text of the layout before (`wr`) is still owed. Raw fields are read: the layout is the subject.
describe("pending raises accumulate until queued", () => {
  let ledger: RedisLedger;
  let redis: RedisClientType;
  beforeAll(async () => {
    ({ ledger, redis } = await testLedger());
  });
  afterAll(() => redis.close());

  const crossing = { plan: "free" as const, lowBalanceThresholds: [{ level: "low" as const, credits: 150 }] };
  const rearmed = { plan: "free" as const, lowBalanceThresholds: [{ level: "low" as const, credits: 50 }] };

  /** An account of 100 credits whose levels are armed (none crossed). */
  async function armed(acct: string): Promise<void> {
    await ledger.putAccount(acct, { plan: "free" });
    await ledger.startCycle(acct, cycle(`c-${acct}`, 100));
    await ledger.balance(acct);
  }

  function recordOf(outcome: LedgerOutcome): NonNullable<LedgerOutcome["raisedRecord"]> {
    if (!outcome.raisedRecord) throw new Error("no raised record");
    return outcome.raisedRecord;
  }

  /** A field of a hash as stored, null when absent. */
  async function field(key: string, name: string): Promise<string | null> {
    return (await redis.hGet(key, name)) ?? null;
  }

  function pending(acct: string): Promise<string | null> {
    return field(ledger.keys(acct).account, "wp");
  }

  it("a newer alert raised before an older one is queued is kept beside it; each mark removes only its own", async () => {
    const acct = "pending-two";
    await armed(acct);
    // A: the low threshold crossed by a PUT whose queueing is lost (its process died).
    const a = await ledger.putAccount(acct, crossing);
    expect(a.alert).toMatchObject({ level: "low" });
    await ledger.putAccount(acct, rearmed); // re-armed (owes A, also lost)
    // B: crossed again. Its call owes A and raises B; its queueing is lost too.
    const b = await ledger.putAccount(acct, crossing);
    expect(b.alert).toMatchObject({ level: "low" });
    expect(b.owed?.map((o) => o.alert)).toEqual([a.alert]);
    // The next call (a retry, a sweep) owes both, each with the seq that keys it.
    const next = await ledger.touch(acct);
    expect(next.owed).toEqual([
      { alert: a.alert, denied: null, budgetReached: null, seq: a.balance.seq },
      { alert: b.alert, denied: null, budgetReached: null, seq: b.balance.seq },
    ]);
    // A's own late mark removes A alone: B stays owed, and a second mark of A changes nothing.
    await ledger.markRaisedQueued(acct, recordOf(a));
    await ledger.markRaisedQueued(acct, recordOf(a));
    expect((await ledger.touch(acct)).owed?.map((o) => o.alert)).toEqual([b.alert]);
    // Marking what the next call queued settles the rest.
    await ledger.markRaisedQueued(acct, recordOf(next));
    expect((await ledger.touch(acct)).raisedRecord ?? null).toBeNull();
    expect(await pending(acct)).toBeNull();
  });

  it("bounded: at 16 pending the oldest 15 and the newest are kept", async () => {
    const acct = "pending-bound";
    await armed(acct);
    const alerts: LedgerOutcome["alert"][] = [];
    let last: LedgerOutcome | null = null;
    for (let i = 0; i < 17; i++) {
      last = await ledger.putAccount(acct, crossing);
      alerts.push(last.alert);
      await ledger.putAccount(acct, rearmed);
    }
    expect(alerts.every((x) => x?.level === "low")).toBe(true);
    // The 17th call was answered the 16 then pending (the 16th among them, which it then replaced).
    expect(last?.owed).toHaveLength(16);
    expect(last?.owed?.[15]?.alert).toEqual(alerts[15]);
    const kept = (await ledger.touch(acct)).owed?.map((o) => o.alert);
    expect(kept).toEqual([...alerts.slice(0, 15), alerts[16]]);
    expect((await pending(acct))?.split("|")).toHaveLength(16);
  });

  it("the layout before: an unmarked `wr` is owed, moved into `wp` by the next raise, removed by its mark", async () => {
    const acct = "pending-legacy";
    await armed(acct);
    const key = ledger.keys(acct).account;
    // What a process of the release before left: one text, its queueing lost.
    const legacy = `${Date.now() - 1000};1;low;150;100;`;
    await redis.hSet(key, "wr", legacy);
    const owedAlert = { accountId: acct, level: "low", threshold: 150, available: 100, at: expect.any(String) };
    const read = await ledger.touch(acct);
    expect(read.owed).toEqual([{ alert: owedAlert, denied: null, budgetReached: null, seq: 1 }]);
    expect(recordOf(read).raised).toEqual([legacy]);
    // A newer raise keeps it: both in the new layout, the old field gone.
    const raised = await ledger.putAccount(acct, crossing);
    expect(raised.owed?.map((o) => o.seq)).toEqual([1]);
    expect(await pending(acct)).toBe(`${legacy}|${recordOf(raised).raised[1] ?? ""}`);
    expect(await field(key, "wr")).toBeNull();
    await ledger.markRaisedQueued(acct, recordOf(raised));
    expect(await pending(acct)).toBeNull();

    // An unmarked `wr` marked by the new release (nothing raised since): removed.
    await redis.hSet(key, "wr", legacy);
    await ledger.markRaisedQueued(acct, recordOf(await ledger.touch(acct)));
    expect(await field(key, "wr")).toBeNull();
    // One marked by the release before (";q") owes nothing.
    await redis.hSet(key, "wr", `${legacy};q`);
    expect((await ledger.touch(acct)).raisedRecord ?? null).toBeNull();
  });

  it("a session's budget sets keep an unqueued alert beside a newer budget_reached", async () => {
    // A virtual clock ends the cycle without sleeping.
    let clock = Date.now();
    const { ledger: timed, redis: timedRedis } = await testLedger({ virtualClock: () => clock });
    onTestFinished(() => timedRedis.close());
    const acct = "pending-session-two";
    const sid = "video-q";
    await timed.putAccount(acct, { plan: "free" });
    await timed.startCycle(acct, cycle(`c-${acct}`, 10, 60_000));
    await timed.applyEvent(completed(acct, sid, "script")); // 1 credit used by the session
    clock += 120_000;
    // A: the budget set's time-due work ends the cycle (exhausted); its queueing is lost.
    const a = await timed.setBudget(acct, sid, 5);
    expect(a.alert).toMatchObject({ level: "exhausted" });
    // B: a budget already used up, reached at once; owes A, and its queueing is lost too.
    const b = await timed.setBudget(acct, sid, 1);
    expect(b.budgetReached).not.toBeNull();
    expect(b.owed?.map((o) => o.alert)).toEqual([a.alert]);
    // The retried PUT owes both.
    const retry = await timed.setBudget(acct, sid, 1);
    expect(retry.owed?.map((o) => o.alert)).toEqual([a.alert, null]);
    expect(retry.owed?.[1]?.budgetReached?.budget).toEqual(b.budgetReached?.budget);
    await timed.markRaisedQueued(acct, recordOf(retry));
    expect((await timed.setBudget(acct, sid, 1)).raisedRecord ?? null).toBeNull();
  });

  it("a session's retried budget set owes its budget_reached until marked, which empties `wp`", async () => {
    const acct = "pending-session";
    const sid = "video-p";
    await armed(acct);
    const first = await ledger.setBudget(acct, sid, 0); // reached at once: its queueing lost
    expect(first.budgetReached).not.toBeNull();
    const again = await ledger.setBudget(acct, sid, 0); // the retry owes it (same budget)
    expect(again.owed?.[0]?.budgetReached?.budget).toEqual(first.budgetReached?.budget);
    await ledger.markRaisedQueued(acct, recordOf(again));
    expect((await ledger.setBudget(acct, sid, 0)).raisedRecord ?? null).toBeNull();
    expect(await field(ledger.keys(acct).session(sid), "wp")).toBeNull();
  });
});
