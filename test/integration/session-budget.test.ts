import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RedisClientType } from "redis";
import type { RedisLedger } from "@creditmeter/server";
import type { StageEvent } from "@creditmeter/shared";
import { cycle, stageEvent, testLedger } from "../support/ledger.js";

// Session budgets in the ledger (CONTRACT §10): enforced in the hold's own script, each case on an
// account of its own. Prices (free plan): script 1, voiceover 1/s with a 30-credit reservation,
// web_research 0.
describe("session budget", () => {
  let ledger: RedisLedger;
  let redis: RedisClientType;
  let n = 0;
  async function account(credits: number): Promise<string> {
    n += 1;
    const id = `budget-${n}`;
    await ledger.putAccount(id, { plan: "free" });
    await ledger.startCycle(id, cycle(`c-${n}`, credits));
    return id;
  }
  const started = (accountId: string, action: StageEvent["action"], fields: Partial<StageEvent> = {}): StageEvent =>
    stageEvent({ accountId, type: "stage.started", action, ...fields });

  beforeAll(async () => {
    ({ ledger, redis } = await testLedger());
  });
  afterAll(async () => {
    await redis.close();
  });

  it("grants a hold that fits the budget exactly and denies one credit more with session_budget", async () => {
    const id = await account(1000);
    const set = await ledger.setBudget(id, "s1", 31);
    expect(set.session).toMatchObject({ seq: 1, budget: { credits: 31, remaining: 31, reachedAt: null } });
    expect(set.sessions.map((s) => s.sessionId)).toEqual(["s1"]);
    expect((await ledger.applyEvent(started(id, "voiceover"))).result).toMatchObject({
      status: "applied",
      held: 30,
      decision: "granted",
    });
    const exact = await ledger.applyEvent(started(id, "script"));
    expect(exact.result).toMatchObject({ status: "applied", held: 1, decision: "granted" });
    // remaining reached 0 with this hold: the snapshot says when, and the outcome fires the webhook.
    expect(exact.budgetReached).toMatchObject({
      sessionId: "s1",
      reserved: 31,
      budget: { credits: 31, remaining: 0, reachedAt: expect.any(String) },
    });

    const over = started(id, "script");
    const denied = await ledger.applyEvent(over);
    expect(denied.result).toEqual({
      status: "denied",
      charged: 0,
      held: 0,
      available: 969,
      sessionUsed: 0,
      decision: "denied",
      denyReason: "session_budget",
    });
    expect(denied.denied).toMatchObject({ sessionId: "s1", required: 1, available: 969, reason: "session_budget" });
    expect(denied.budgetReached).toBeNull();
    const duplicate = await ledger.applyEvent(over);
    expect(duplicate.result).toMatchObject({ status: "duplicate", decision: "denied", denyReason: "session_budget" });

    // Another session of the account has no budget: the same hold is granted there.
    expect((await ledger.applyEvent(started(id, "script", { sessionId: "s2" }))).result).toMatchObject({
      decision: "granted",
    });
    expect(await ledger.session(id, "s1")).toMatchObject({
      used: 0,
      reserved: 31,
      budget: { credits: 31, remaining: 0 },
    });
    expect(await ledger.session(id, "s2")).toMatchObject({ budget: null });
  });

  it("gives insufficient_credits when both the credits and the budget fall short", async () => {
    const id = await account(10);
    await ledger.setBudget(id, "s1", 5);
    const out = await ledger.applyEvent(started(id, "voiceover"));
    expect(out.result).toMatchObject({ status: "denied", denyReason: "insufficient_credits" });
    expect(out.denied).toMatchObject({ required: 30, available: 10, reason: "insufficient_credits" });
  });

  it("always grants a zero-credit hold, even on a budget of 0", async () => {
    const id = await account(100);
    const set = await ledger.setBudget(id, "s1", 0);
    // A budget of 0 is used up the moment it is set.
    expect(set.budgetReached).toMatchObject({ budget: { credits: 0, remaining: 0, reachedAt: expect.any(String) } });
    expect((await ledger.applyEvent(started(id, "web_research"))).result).toMatchObject({
      status: "applied",
      held: 0,
      decision: "granted",
    });
    expect((await ledger.applyEvent(started(id, "script"))).result).toMatchObject({
      status: "denied",
      denyReason: "session_budget",
    });
  });

  it("removes a budget: the denied step is granted when retried, and the snapshot shows none", async () => {
    const id = await account(100);
    await ledger.setBudget(id, "s1", 10);
    const first = started(id, "voiceover", { stepId: "v" });
    expect((await ledger.applyEvent(first)).result).toMatchObject({ status: "denied", denyReason: "session_budget" });
    const removed = await ledger.setBudget(id, "s1", null);
    // A denial changes no session: seq 1 was the budget set, 2 is its removal.
    expect(removed.session).toMatchObject({ seq: 2, budget: null });
    expect(removed.sessions).toHaveLength(1);
    const retry = await ledger.applyEvent({ ...first, eventId: `${first.eventId}-2` });
    expect(retry.result).toMatchObject({ status: "applied", held: 30, decision: "granted" });
    // Removing it again changes nothing: no seq, nothing to push.
    const again = await ledger.setBudget(id, "s1", null);
    expect(again.session).toMatchObject({ seq: 3, budget: null });
    expect(again.sessions).toEqual([]);
  });

  it("charges a completion in full beyond the budget; remaining stays 0", async () => {
    const id = await account(1000);
    await ledger.setBudget(id, "s1", 30);
    const hold = await ledger.applyEvent(started(id, "voiceover", { stepId: "v" }));
    expect(hold.budgetReached).toMatchObject({ budget: { remaining: 0 } });
    const done = await ledger.applyEvent(
      stageEvent({ accountId: id, type: "stage.completed", action: "voiceover", seconds: 45, stepId: "v" }),
    );
    expect(done.result).toMatchObject({ status: "applied", charged: 45, sessionUsed: 45 });
    // Already reached with the hold: once per budget set.
    expect(done.budgetReached).toBeNull();
    expect(await ledger.session(id, "s1")).toMatchObject({
      used: 45,
      reserved: 0,
      budget: { credits: 30, remaining: 0 },
    });
    // A completion without a hold is charged too, whatever the budget.
    const unheld = await ledger.applyEvent(stageEvent({ accountId: id, type: "stage.completed", action: "script" }));
    expect(unheld.result).toMatchObject({ status: "applied", charged: 1, sessionUsed: 46 });
  });

  it("fires once per budget set: a repeat does not re-arm, a new budget does", async () => {
    const id = await account(1000);
    await ledger.setBudget(id, "s1", 31);
    const reached = await ledger.applyEvent(started(id, "voiceover", { stepId: "v" }));
    expect(reached.budgetReached).toBeNull();
    const first = await ledger.applyEvent(started(id, "script"));
    const reachedAt = first.budgetReached?.budget?.reachedAt;
    expect(reachedAt).toEqual(expect.any(String));
    // The hold fails, remaining rises again, and comes back to 0: not a second time.
    await ledger.applyEvent(stageEvent({ accountId: id, type: "stage.failed", action: "voiceover", stepId: "v" }));
    expect(await ledger.session(id, "s1")).toMatchObject({ budget: { remaining: 30, reachedAt } });
    expect((await ledger.applyEvent(started(id, "voiceover"))).budgetReached).toBeNull();

    const repeat = await ledger.setBudget(id, "s1", 31);
    expect(repeat.sessions).toEqual([]);
    expect(repeat.budgetReached).toBeNull();
    expect(repeat.session.budget).toEqual({ credits: 31, remaining: 0, reachedAt });

    const raised = await ledger.setBudget(id, "s1", 40);
    expect(raised.session.budget).toEqual({ credits: 40, remaining: 9, reachedAt: null });
    expect(raised.budgetReached).toBeNull();
    const again = await ledger.applyEvent(started(id, "voiceover", { stepId: "v2" }));
    expect(again.result).toMatchObject({ status: "denied", denyReason: "session_budget" });
    const done = await ledger.applyEvent(
      stageEvent({ accountId: id, type: "stage.completed", action: "voiceover", seconds: 9, stepId: "v3" }),
    );
    expect(done.budgetReached).toMatchObject({
      used: 9,
      budget: { credits: 40, remaining: 0, reachedAt: expect.any(String) },
    });

    // A budget lowered below what the session already took is reached by the call that sets it.
    const lowered = await ledger.setBudget(id, "s1", 20);
    expect(lowered.budgetReached).toMatchObject({
      budget: { credits: 20, remaining: 0, reachedAt: expect.any(String) },
    });
  });

  it("answers the same forecast as a read: setting a budget leaves the plan's forecast as it is", async () => {
    const id = await account(100);
    await ledger.setPlan(id, "s1", { free: 60, plus: 60, pro: 60 });
    await ledger.applyEvent(stageEvent({ accountId: id, type: "stage.completed", action: "voiceover", seconds: 10 }));
    const set = await ledger.setBudget(id, "s1", 40);
    expect(set.session.forecast).toMatchObject({ planned: 60, remaining: 50, burnPerMinute: 2 });
    expect(set.session).toEqual(await ledger.session(id, "s1"));
    expect(set.sessions[0]?.forecast).toEqual(set.session.forecast);
  });

  it("answers unknown_account for an account that does not exist, writing nothing", async () => {
    await expect(ledger.setBudget("nobody-here", "s1", 10)).rejects.toMatchObject({ code: "unknown_account" });
    expect(await redis.exists(ledger.keys("nobody-here").session("s1"))).toBe(0);
  });
});
