import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RedisClientType } from "redis";
import type { RedisLedger } from "@creditmeter/server";
import { cycle, stageEvent, testLedger } from "../support/ledger.js";
import { waitFor } from "../support/redis-server.js";

// The ledger rules of CONTRACT §2–3, each on an account of its own.
describe("ledger rules", () => {
  let ledger: RedisLedger;
  let redis: RedisClientType;
  let n = 0;
  async function account(plan: "free" | "plus" | "pro", credits: number, endInMs?: number): Promise<string> {
    n += 1;
    const id = `acct-${n}`;
    await ledger.putAccount(id, { plan });
    if (credits > 0) await ledger.startCycle(id, cycle(`c-${n}`, credits, endInMs));
    return id;
  }

  beforeAll(async () => {
    ({ ledger, redis } = await testLedger({ holdTtlSeconds: 1 }));
  });
  afterAll(async () => {
    await redis.close();
  });

  it("charges images 0 on plus and pro, 3 per scene on free", async () => {
    for (const [plan, expected] of [
      ["free", 12],
      ["plus", 0],
      ["pro", 0],
    ] as const) {
      const id = await account(plan, 100);
      const out = await ledger.applyEvent(
        stageEvent({ accountId: id, type: "stage.completed", action: "image", scenes: 4 }),
      );
      expect(out.result).toMatchObject({ status: "applied", charged: expected, available: 100 - expected });
    }
  });

  it("denies a hold above available, retries after a pack, charges a denied step that completes", async () => {
    const id = await account("free", 20);
    const started = stageEvent({
      accountId: id,
      type: "stage.started",
      action: "animation",
      model: "veo-3.1",
      seconds: 2,
      stepId: "a1",
    });
    const denied = await ledger.applyEvent(started);
    expect(denied.result).toEqual({
      status: "denied",
      charged: 0,
      held: 0,
      available: 20,
      sessionUsed: 0,
      decision: "denied",
      denyReason: "insufficient_credits",
    });
    expect(denied.denied).toMatchObject({ required: 40, available: 20, stepId: "a1", reason: "insufficient_credits" });
    const again = await ledger.applyEvent(started);
    expect(again.result).toMatchObject({
      status: "duplicate",
      charged: 0,
      held: 0,
      decision: "denied",
      denyReason: "insufficient_credits",
    });
    const zero = await ledger.applyEvent(stageEvent({ accountId: id, type: "stage.started", action: "web_research" }));
    expect(zero.result).toMatchObject({ status: "applied", held: 0, decision: "granted" });
    await ledger.addPack(id, { packId: "p1", credits: 100 });
    const retry = await ledger.applyEvent({ ...started, eventId: `${started.eventId}-2` });
    expect(retry.result).toMatchObject({ status: "applied", held: 40, available: 80, decision: "granted" });
    const deniedStep = await ledger.applyEvent(
      stageEvent({
        accountId: id,
        type: "stage.started",
        action: "animation",
        model: "veo-3.1",
        seconds: 10,
        stepId: "a2",
      }),
    );
    expect(deniedStep.result?.status).toBe("denied");
    const done = await ledger.applyEvent(
      stageEvent({
        accountId: id,
        type: "stage.completed",
        action: "animation",
        model: "veo-3.1",
        seconds: 10,
        stepId: "a2",
      }),
    );
    expect(done.result).toMatchObject({ status: "applied", charged: 200 });
    const bal = await ledger.balance(id);
    expect(bal).toMatchObject({ available: 0, held: 40, overdraft: 120, used: 200 });
  });

  it("applies a duplicate once and ignores events after a step ended, in any order", async () => {
    const id = await account("free", 100);
    const completed = stageEvent({ accountId: id, type: "stage.completed", action: "script", stepId: "s" });
    expect((await ledger.applyEvent(completed)).result).toMatchObject({ status: "applied", charged: 1 });
    expect((await ledger.applyEvent(completed)).result).toMatchObject({
      status: "duplicate",
      charged: 0,
      held: 0,
      available: 99,
      sessionUsed: 1,
    });
    const late = await ledger.applyEvent(
      stageEvent({ accountId: id, type: "stage.started", action: "script", stepId: "s" }),
    );
    expect(late.result).toMatchObject({ status: "ignored", charged: 0, held: 0, available: 99 });
    const progress = await ledger.applyEvent(
      stageEvent({ accountId: id, type: "stage.progress", action: "script", stepId: "s", progress: 0.5 }),
    );
    expect(progress.result?.status).toBe("ignored");
    expect(await ledger.balance(id)).toMatchObject({ available: 99, held: 0, used: 1 });
  });

  it("forwards progress on an open step without touching balances", async () => {
    const id = await account("free", 100);
    await ledger.applyEvent(stageEvent({ accountId: id, type: "stage.started", action: "script", stepId: "p" }));
    const out = await ledger.applyEvent(
      stageEvent({ accountId: id, type: "stage.progress", action: "script", stepId: "p", progress: 0.3 }),
    );
    expect(out.result).toMatchObject({ status: "applied", charged: 0, held: 0, available: 99 });
    expect(out.progress).toMatchObject({ stepId: "p", stage: "research", progress: 0.3 });
    expect(out.changed).toBe(false);
  });

  it("releases the hold of a failed step and charges nothing", async () => {
    const id = await account("free", 100);
    await ledger.applyEvent(stageEvent({ accountId: id, type: "stage.started", action: "voiceover", stepId: "v" }));
    expect(await ledger.balance(id)).toMatchObject({ available: 70, held: 30 });
    const failed = await ledger.applyEvent(
      stageEvent({ accountId: id, type: "stage.failed", action: "voiceover", stepId: "v", reason: "tts down" }),
    );
    expect(failed.result).toMatchObject({ status: "applied", charged: 0, held: 0, available: 100 });
    expect(await ledger.session(id, "s1")).toMatchObject({ used: 0, reserved: 0 });
  });

  it("expires a hold whose step never finishes, and still charges a late completion in full", async () => {
    const id = await account("free", 100);
    await ledger.applyEvent(
      stageEvent({ accountId: id, type: "stage.started", action: "talking_head", seconds: 5, stepId: "t" }),
    );
    expect(await ledger.balance(id)).toMatchObject({ available: 50, held: 50 });
    await waitFor(async () => (await ledger.balance(id)).held === 0, 5000, "the hold to expire");
    expect(await ledger.balance(id)).toMatchObject({ available: 100, held: 0 });
    expect(await ledger.session(id, "s1")).toMatchObject({ reserved: 0 });
    const late = await ledger.applyEvent(
      stageEvent({ accountId: id, type: "stage.completed", action: "talking_head", seconds: 6, stepId: "t" }),
    );
    expect(late.result).toMatchObject({ status: "applied", charged: 60, available: 40 });
    const page = await ledger.ledgerPage(id, { limit: 10 });
    // The expiry entry (CONTRACT §4 v1.1) returned the 50 credits the hold had reserved.
    expect(page.entries.map((e) => e.kind)).toEqual(["charge", "expiry", "hold", "grant"]);
  });

  it("spends the subscription before packs, packs oldest first", async () => {
    const id = await account("free", 10);
    await ledger.addPack(id, { packId: "old", credits: 5 });
    await ledger.adjust(id, { adjustmentId: "refund", credits: 5, reason: "goodwill" });
    await ledger.applyEvent(stageEvent({ accountId: id, type: "stage.completed", action: "image", scenes: 4 }));
    const bal = await ledger.balance(id);
    expect(bal.buckets.map((b) => [b.id, b.remaining])).toEqual([
      ["c-" + id.slice(5), 0],
      ["old", 3],
      ["refund", 5],
    ]);
    // A pack spent to 0 leaves the list (CONTRACT §4: spent packs are not listed), in a batch too.
    const [spend, next] = await ledger.applyEvents([
      stageEvent({ accountId: id, type: "stage.completed", action: "image", scenes: 1 }),
      stageEvent({ accountId: id, type: "stage.completed", action: "script" }),
    ]);
    expect([spend, next].map((o) => (o instanceof Error ? o.message : o?.result?.charged))).toEqual([3, 1]);
    const after = await ledger.balance(id);
    expect(after.buckets.map((b) => [b.id, b.remaining])).toEqual([
      ["c-" + id.slice(5), 0],
      ["refund", 4],
    ]);
  });

  it("forfeits the remainder at cycle end and on a new cycle (no rollover), used from the new start", async () => {
    const id = await account("free", 100, 1500);
    await ledger.applyEvent(stageEvent({ accountId: id, type: "stage.completed", action: "image", scenes: 3 }));
    await waitFor(async () => (await ledger.balance(id)).available === 0, 5000, "the cycle to end");
    const ended = await ledger.balance(id);
    expect(ended.buckets).toEqual([expect.objectContaining({ kind: "subscription", remaining: 0, granted: 100 })]);
    // The next cycle starts a minute back, so the 9-credit charge of a moment ago counts as its use.
    await ledger.startCycle(id, {
      cycleId: "next",
      credits: 50,
      start: new Date(Date.now() - 60_000).toISOString(),
      end: new Date(Date.now() + 86_400_000).toISOString(),
    });
    expect(await ledger.balance(id)).toMatchObject({ available: 50, used: 9, cycle: { cycleId: "next" } });
    await ledger.startCycle(id, {
      cycleId: "third",
      credits: 30,
      start: new Date().toISOString(),
      end: new Date(Date.now() + 86_400_000).toISOString(),
    });
    // The third starts now, after that charge: nothing used yet.
    const third = await ledger.balance(id);
    expect(third).toMatchObject({ available: 30, used: 0 });
    const kinds = (await ledger.ledgerPage(id, { limit: 3 })).entries.map((e) => [e.kind, e.amount]);
    expect(kinds).toEqual([
      ["grant", 30],
      ["forfeit", 50],
      ["grant", 50],
    ]);
  });

  it("reports usagePercent 37 for 111 used of 300", async () => {
    const id = await account("free", 300);
    await ledger.applyEvent(stageEvent({ accountId: id, type: "stage.completed", action: "voiceover", seconds: 111 }));
    expect(await ledger.balance(id)).toMatchObject({ used: 111, available: 189, usagePercent: 37 });
  });

  it("records overdraft and repays it from the next grant, never from a released hold", async () => {
    const id = await account("free", 10);
    await ledger.applyEvent(stageEvent({ accountId: id, type: "stage.started", action: "script", stepId: "held" }));
    await ledger.applyEvent(stageEvent({ accountId: id, type: "stage.completed", action: "image", scenes: 5 }));
    expect(await ledger.balance(id)).toMatchObject({ available: 0, held: 1, overdraft: 6 });
    await ledger.applyEvent(stageEvent({ accountId: id, type: "stage.failed", action: "script", stepId: "held" }));
    expect(await ledger.balance(id)).toMatchObject({ available: 1, held: 0, overdraft: 6 });
    const after = await ledger.addPack(id, { packId: "p", credits: 10 });
    expect(after.balance).toMatchObject({ available: 5, overdraft: 0 });
  });

  it("shrinks holds newest first when credits vanish under them", async () => {
    const id = await account("free", 100);
    await ledger.applyEvent(
      stageEvent({ accountId: id, type: "stage.started", action: "voiceover", sessionId: "a", stepId: "first" }),
    );
    await ledger.applyEvent(
      stageEvent({ accountId: id, type: "stage.started", action: "voiceover", sessionId: "b", stepId: "second" }),
    );
    const out = await ledger.adjust(id, { adjustmentId: "debit", credits: -60, reason: "chargeback" });
    expect(out.balance).toMatchObject({ available: 0, held: 40, overdraft: 0 });
    expect(await ledger.session(id, "a")).toMatchObject({ reserved: 30 });
    expect(await ledger.session(id, "b")).toMatchObject({ reserved: 10 });
    const done = await ledger.applyEvent(
      stageEvent({
        accountId: id,
        type: "stage.completed",
        action: "voiceover",
        seconds: 30,
        sessionId: "b",
        stepId: "second",
      }),
    );
    expect(done.result).toMatchObject({ charged: 30 });
    expect(await ledger.balance(id)).toMatchObject({ available: 0, held: 30, overdraft: 20, used: 30 });
  });

  it("answers a repeated grant as the first did and refuses the same id with another body", async () => {
    const id = await account("free", 0);
    const first = await ledger.addPack(id, { packId: "p", credits: 10 });
    const again = await ledger.addPack(id, { packId: "p", credits: 10 });
    expect(again.balance).toEqual(first.balance);
    await expect(ledger.addPack(id, { packId: "p", credits: 11 })).rejects.toMatchObject({ code: "conflict" });
    await expect(ledger.addPack("nobody", { packId: "p", credits: 1 })).rejects.toMatchObject({
      code: "unknown_account",
    });
    expect((await ledger.balance(id)).available).toBe(10);
  });

  it("counts used from the cycle's start: a charge before a future start is not the cycle's use", async () => {
    const id = await account("free", 0);
    await ledger.addPack(id, { packId: "p", credits: 50 });
    const start = new Date(Date.now() + 3_600_000).toISOString();
    await ledger.startCycle(id, {
      cycleId: "later",
      credits: 100,
      start,
      end: new Date(Date.now() + 86_400_000).toISOString(),
    });
    await ledger.applyEvent(stageEvent({ accountId: id, type: "stage.completed", action: "script" }));
    expect(await ledger.balance(id)).toMatchObject({ used: 0, available: 149 });
  });

  it("keeps a dismissed banner hidden when credits rise from critical back under low, until the next crossing", async () => {
    const id = await account("free", 100);
    await ledger.applyEvent(stageEvent({ accountId: id, type: "stage.completed", action: "voiceover", seconds: 96 }));
    expect((await ledger.balance(id)).alert).toMatchObject({ level: "critical", dismissed: false });
    await ledger.dismissAlert(id, "critical");
    await ledger.adjust(id, { adjustmentId: "back-under-low", credits: 10, reason: "refund" });
    expect((await ledger.balance(id)).alert).toMatchObject({ level: "low", dismissed: true });
    await ledger.applyEvent(stageEvent({ accountId: id, type: "stage.completed", action: "voiceover", seconds: 12 }));
    expect((await ledger.balance(id)).alert).toMatchObject({ level: "critical", dismissed: false });
  });

  it("treats the same cycle instant written two ways as the same body, and another instant as a conflict", async () => {
    const id = await account("free", 0);
    await ledger.startCycle(id, {
      cycleId: "nov",
      credits: 10,
      start: "2026-11-01T00:00:00Z",
      end: "2026-12-01T00:00:00Z",
    });
    const again = await ledger.startCycle(id, {
      cycleId: "nov",
      credits: 10,
      start: "2026-11-01T00:00:00.000+00:00",
      end: "2026-12-01T01:00:00+01:00",
    });
    expect(again.balance.cycle).toMatchObject({ cycleId: "nov" });
    await expect(
      ledger.startCycle(id, {
        cycleId: "nov",
        credits: 10,
        start: "2026-11-02T00:00:00Z",
        end: "2026-12-01T00:00:00Z",
      }),
    ).rejects.toMatchObject({ code: "conflict" });
  });
});
