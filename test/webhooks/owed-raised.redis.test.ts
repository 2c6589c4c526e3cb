import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../server/src/config/config.js";
import { RedisLedger } from "../../server/src/ledger/redis-ledger.js";
import { completed, cycleOf, deployment, type Deployment } from "../realtime/harness.js";

// What an ops change and a budget set keep in their own records until their webhooks are queued
// (docs/webhooks.md "The gap"): a repeat owes what the first call raised, exactly, until marked.
// Raw records are read because the mark is what this file is about.
describe("records of ops changes and budget sets keep what they raised", () => {
  let d: Deployment;
  let ledger: RedisLedger;
  beforeAll(async () => {
    d = await deployment();
    ledger = RedisLedger.fromConfig(d.redis, loadConfig(d.env));
  });
  afterAll(() => d.close());

  it("an adjustment's repeat owes its alert, with the first time and seq, until marked queued", async () => {
    const acct = "owed-adj";
    await ledger.putAccount(acct, { plan: "free" });
    await ledger.startCycle(acct, cycleOf(`c-${acct}`, 10));
    const body = { adjustmentId: "adj-1", credits: -10, reason: "refund reversed" };
    const first = await ledger.adjust(acct, body);
    expect(first.alert).toMatchObject({ level: "exhausted", available: 0 });
    expect(first.raisedRecord).toMatchObject({ kind: "grant" });
    expect(first.owed ?? null).toBeNull();
    const again = await ledger.adjust(acct, body);
    expect(again.alert).toBeNull();
    expect(again.balance.seq).toBe(first.balance.seq);
    expect(again.owed).toEqual([{ alert: first.alert, denied: null, budgetReached: null, seq: first.balance.seq }]);
    const record = again.raisedRecord;
    if (!record) throw new Error("no raised record");
    await ledger.markRaisedQueued(acct, record);
    const later = await ledger.adjust(acct, body);
    expect(later.owed ?? null).toBeNull();
    expect(later.raisedRecord ?? null).toBeNull();
    // The answer is still the first call's account.
    expect(later.balance).toEqual(first.balance);
  });

  it("an account PUT whose new thresholds fire an alert: its repeat owes it, same time and seq, until marked", async () => {
    const acct = "owed-put";
    await ledger.putAccount(acct, { plan: "free" });
    await ledger.startCycle(acct, cycleOf(`c-${acct}`, 100));
    await ledger.balance(acct); // the levels armed above their thresholds
    // A low threshold above what the account has: crossed by this very PUT (an ops change).
    const body = { plan: "free" as const, lowBalanceThresholds: [{ level: "low" as const, credits: 150 }] };
    const first = await ledger.putAccount(acct, body);
    expect(first.alert).toMatchObject({ level: "low", available: 100 });
    expect(first.raisedRecord).toMatchObject({ kind: "account" });
    const again = await ledger.putAccount(acct, body);
    expect(again.alert).toBeNull();
    expect(again.owed).toEqual([{ alert: first.alert, denied: null, budgetReached: null, seq: first.balance.seq }]);
    const record = again.raisedRecord;
    if (!record) throw new Error("no raised record");
    await ledger.markRaisedQueued(acct, record);
    expect((await ledger.putAccount(acct, body)).raisedRecord ?? null).toBeNull();
  });

  it("an adjustment that raised nothing keeps nothing", async () => {
    const acct = "owed-none";
    await ledger.putAccount(acct, { plan: "free" });
    await ledger.startCycle(acct, cycleOf(`c-${acct}`, 100));
    const body = { adjustmentId: "adj-2", credits: 5, reason: "goodwill" };
    expect((await ledger.adjust(acct, body)).raisedRecord ?? null).toBeNull();
    expect((await ledger.adjust(acct, body)).raisedRecord ?? null).toBeNull();
  });

  it("a budget set already used up: its repeat owes the budget_reached until marked; a new budget supersedes it", async () => {
    const acct = "owed-budget";
    const sid = "video-b";
    await ledger.putAccount(acct, { plan: "free" });
    await ledger.startCycle(acct, cycleOf(`c-${acct}`, 100));
    await ledger.applyEvent(completed(acct, sid, "script"));
    const first = await ledger.setBudget(acct, sid, 1);
    expect(first.budgetReached?.budget?.reachedAt).toBeTruthy();
    expect(first.raisedRecord).toMatchObject({ kind: "session" });
    const again = await ledger.setBudget(acct, sid, 1);
    expect(again.changed).toBe(false);
    expect(again.session.seq).toBe(first.session.seq); // the kept record is no session change
    expect(again.budgetReached).toBeNull();
    expect(again.owed?.[0]?.budgetReached?.budget).toEqual(first.budgetReached?.budget);
    const record = again.raisedRecord;
    if (!record) throw new Error("no raised record");
    await ledger.markRaisedQueued(acct, record);
    expect((await ledger.setBudget(acct, sid, 1)).raisedRecord ?? null).toBeNull();

    // Reached again by another budget, not queued; then a third budget: the second is superseded.
    const second = await ledger.setBudget(acct, sid, 0);
    expect(second.budgetReached).not.toBeNull();
    const third = await ledger.setBudget(acct, sid, 50);
    expect(third.owed?.[0]?.budgetReached ?? null).toBeNull();
    expect(third.raisedRecord).toMatchObject({ kind: "session" });
  });
});
