import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RedisClientType } from "redis";
import { sweepOnce, type LedgerOutcome, type RedisLedger } from "@creditmeter/server";
import { cycle, testLedger } from "../support/ledger.js";
import { RecordingPublisher } from "../support/pipeline.js";
import { waitFor } from "../support/redis-server.js";

// Time-due work found by a session read, a plan set or an alert dismissal (docs/webhooks.md "The
// gap"): the alert it raised is kept in the account hash (`wr`) until marked queued, as touch-3.lua
// keeps the sweeper's. A virtual clock ends the cycles without sleeping.
describe("time-due work found by reads, plan sets and dismissals keeps its alert", () => {
  let ledger: RedisLedger;
  let redis: RedisClientType;
  let clock = Date.now();
  const maintained: LedgerOutcome[] = [];
  beforeAll(async () => {
    ({ ledger, redis } = await testLedger({
      virtualClock: () => clock,
      onMaintenance: (outcome) => maintained.push(outcome),
    }));
  });
  afterAll(() => redis.close());

  /** An account of 10 credits whose cycle has ended on the ledger's clock (nothing applied yet). */
  async function cycleEnded(acct: string): Promise<void> {
    await ledger.putAccount(acct, { plan: "free" });
    // Ends a minute after the ledger's clock (earlier tests moved it on), then the clock passes it.
    await ledger.startCycle(acct, cycle(`c-${acct}`, 10, clock - Date.now() + 60_000));
    clock += 120_000;
    await waitFor(async () => (await dueIds()).includes(acct), 5000, "the cycle end in the index");
  }

  /** The accounts whose index entry is due at `at` (the ledger's clock by default). */
  async function dueIds(at = clock): Promise<string[]> {
    return (await ledger.deadlines.due(at, 1000)).map((e) => e.accountId);
  }

  it("a session read hands its alert on to be settled; lost, the sweeper's next touch owes it (the entry stays due)", async () => {
    const acct = "owed-read";
    await cycleEnded(acct);
    await ledger.session(acct, "s1");
    const read = maintained.find((o) => o.accountId === acct);
    expect(read?.alert).toMatchObject({ level: "exhausted", available: 0 });
    expect(read?.raisedRecord).toMatchObject({ kind: "account" });
    // The read never moves the index entry later (offer keeps the earlier score): still due.
    expect(await dueIds()).toContain(acct);

    // Its background settle was lost (a crash): the sweeper's touch answers the kept alert as owed.
    const settled: LedgerOutcome[] = [];
    const settle = async (o: LedgerOutcome): Promise<void> => {
      settled.push(o);
      if (o.raisedRecord) await ledger.markRaisedQueued(o.accountId, o.raisedRecord);
    };
    await sweepOnce(ledger, new RecordingPublisher(), clock, undefined, { settle });
    const swept = settled.find((o) => o.accountId === acct);
    expect(swept?.alert ?? null).toBeNull();
    expect(swept?.owed).toEqual([{ alert: read?.alert, denied: null, budgetReached: null, seq: read?.balance?.seq }]);
    // Marked: later reads and touches owe nothing.
    expect((await ledger.touch(acct)).raisedRecord ?? null).toBeNull();
    const before = maintained.length;
    await ledger.session(acct, "s1");
    expect(maintained.slice(before).filter((o) => o.raisedRecord)).toEqual([]);
  });

  it("a plan set: its retry owes the alert, same time and seq, until marked", async () => {
    const acct = "owed-plan";
    await cycleEnded(acct);
    const totals = { free: 5, plus: 5, pro: 5 };
    const first = await ledger.setPlan(acct, "s1", totals);
    expect(first.alert).toMatchObject({ level: "exhausted", available: 0 });
    expect(first.raisedRecord).toMatchObject({ kind: "account" });
    const again = await ledger.setPlan(acct, "s1", totals);
    expect(again.alert).toBeNull();
    expect(again.owed).toEqual([{ alert: first.alert, denied: null, budgetReached: null, seq: first.balance?.seq }]);
    const record = again.raisedRecord;
    if (!record) throw new Error("no raised record");
    await ledger.markRaisedQueued(acct, record);
    expect((await ledger.setPlan(acct, "s1", totals)).raisedRecord ?? null).toBeNull();
  });

  it("a dismissal: its alert reaches the outcome's record, and its retry owes it until marked", async () => {
    const acct = "owed-dismiss";
    await cycleEnded(acct);
    const first = await ledger.dismissAlert(acct, "low");
    expect(first.alert).toMatchObject({ level: "exhausted", available: 0 });
    expect(first.raisedRecord).toMatchObject({ kind: "account" });
    const again = await ledger.dismissAlert(acct, "low");
    expect(again.owed).toEqual([{ alert: first.alert, denied: null, budgetReached: null, seq: first.balance.seq }]);
    const record = again.raisedRecord;
    if (!record) throw new Error("no raised record");
    await ledger.markRaisedQueued(acct, record);
    expect((await ledger.dismissAlert(acct, "low")).raisedRecord ?? null).toBeNull();
  });
});
