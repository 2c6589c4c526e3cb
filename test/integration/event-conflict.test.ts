/**
 * CONTRACT §2 (v1.1): an eventId is remembered with a fingerprint of its event. The same eventId
 * with the same fingerprint is a `duplicate`; with a different one the job fails without retry, its
 * reason starts with `conflict` and names the first differing field, and the ledger is untouched.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CreditmeterError } from "@creditmeter/shared";
import { asAccountOfLayoutBefore, cycle, stageEvent, testLedger } from "../support/ledger.js";
import type { LedgerOutcome } from "@creditmeter/server";
import { snapshotKeys, startPipeline, type Pipeline } from "../support/pipeline.js";

const accountId = "acct-conflict";

describe("a reused eventId with a different body", () => {
  let p: Pipeline;
  beforeAll(async () => {
    p = await startPipeline();
    await p.ledger.putAccount(accountId, { plan: "free" });
    await p.ledger.startCycle(accountId, cycle("c1", 1000));
  });
  afterAll(() => p.close());

  it("fails the job without retry, naming the field, and leaves the ledger as it was", async () => {
    const first = stageEvent({ accountId, type: "stage.completed", action: "voiceover", seconds: 20 });
    const applied = await p.queue.add(first.type, first, { jobId: first.eventId });
    expect(await applied.waitUntilFinished(p.events, 10_000)).toMatchObject({ status: "applied", charged: 20 });

    const before = await snapshotKeys(p.redis, p.namespace);
    const reused = { ...first, seconds: 50 };
    const job = await p.queue.add(reused.type, reused, { jobId: reused.eventId });
    await expect(job.waitUntilFinished(p.events, 10_000)).rejects.toThrow(/^conflict: seconds/);
    const failed = await p.queue.getJob(reused.eventId);
    expect(failed?.attemptsMade ?? 0, "a conflict must not be retried").toBeLessThanOrEqual(1);
    expect(await p.queue.getJobState(reused.eventId)).toBe("failed");
    expect(await snapshotKeys(p.redis, p.namespace)).toEqual(before);
    expect(await p.ledger.balance(accountId)).toMatchObject({ used: 20, available: 980 });

    // The exact same event again (a new job: the failed one is removed first) is still a duplicate.
    await failed?.remove();
    const again = await p.queue.add(first.type, first, { jobId: first.eventId });
    expect(await again.waitUntilFinished(p.events, 10_000)).toMatchObject({
      status: "duplicate",
      charged: 0,
      available: 980,
    });
  });
});

describe("fingerprint fields (ledger)", () => {
  let ctx: Awaited<ReturnType<typeof testLedger>>;
  beforeAll(async () => {
    ctx = await testLedger();
    await ctx.ledger.putAccount("f", { plan: "free" });
    await ctx.ledger.startCycle("f", cycle("c1", 1000));
  });
  afterAll(() => ctx.redis.close());

  it.each([
    ["type", { type: "stage.failed" }],
    ["sessionId", { sessionId: "other-session" }],
    ["stepId", { stepId: "other-step" }],
    ["action", { action: "music" }],
    ["seconds", { seconds: 31 }],
  ] as const)("names %s as the first differing field", async (field, change) => {
    const first = stageEvent({ accountId: "f", type: "stage.started", action: "voiceover", seconds: 30 });
    expect((await ctx.ledger.applyEvent(first)).result?.status).toBe("applied");
    const err = await ctx.ledger.applyEvent({ ...first, ...change }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CreditmeterError);
    expect((err as CreditmeterError).code).toBe("conflict");
    expect((err as CreditmeterError).message).toMatch(new RegExp(`^conflict: ${field}: `));
    expect((err as CreditmeterError).field).toBe(field);
  });

  it("names model and scenes too, and sees a conflict inside one batch", async () => {
    const anim = stageEvent({
      accountId: "f",
      type: "stage.completed",
      action: "animation",
      model: "sora-2",
      seconds: 2,
    });
    const img = stageEvent({ accountId: "f", type: "stage.completed", action: "image", scenes: 2 });
    const out = await ctx.ledger.applyEvents([anim, { ...anim, model: "veo-3.1" }, img, { ...img, scenes: 3 }, img]);
    expect(
      out.map((o) => (o instanceof Error ? o.message.split(":").slice(0, 2).join(":") : o.result?.status)),
    ).toEqual(["applied", "conflict: model", "applied", "conflict: scenes", "duplicate"]);
    // Only the two applied charges: 2 s × 10 and 2 scenes × 3.
    const page = await ctx.ledger.ledgerPage("f", { limit: 100 });
    expect(
      page.entries
        .filter((e) => e.kind === "charge" && (e.eventId === anim.eventId || e.eventId === img.eventId))
        .map((e) => e.amount),
    ).toEqual([6, 20]);
  });

  it("takes scenes absent and scenes 1 (the default) as the same event, records written before included", async () => {
    const img = stageEvent({ accountId: "f", type: "stage.completed", action: "image" });
    const out = await ctx.ledger.applyEvents([img, { ...img, scenes: 1 }, { ...img, scenes: 2 }]);
    expect(
      out.map((o) => (o instanceof Error ? o.message.split(":").slice(0, 2).join(":") : o.result?.status)),
    ).toEqual(["applied", "duplicate", "conflict: scenes"]);
    // A record written before the normalisation, holding scenes 1, against an event without it.
    const old = stageEvent({ accountId: "f", type: "stage.completed", action: "image" });
    const fp = ["stage.completed", old.sessionId, old.stepId, "image", null, 1, null];
    await asAccountOfLayoutBefore(ctx.redis, ctx.namespace, "f");
    await ctx.redis.set(`${ctx.namespace}:{f}:evt:${old.eventId}`, JSON.stringify({ s: "applied", c: 3, h: 0, f: fp }));
    expect((await ctx.ledger.applyEvent(old)).result?.status).toBe("duplicate");
  });

  it("treats a record written before fingerprints (no fingerprint) as a duplicate", async () => {
    const e = stageEvent({ accountId: "f", type: "stage.completed", action: "script" });
    await asAccountOfLayoutBefore(ctx.redis, ctx.namespace, "f");
    await ctx.redis.set(`${ctx.namespace}:{f}:evt:${e.eventId}`, '{"s":"applied","c":1,"h":0}');
    expect((await ctx.ledger.applyEvent({ ...e, stepId: "x" })).result?.status).toBe("duplicate");
  });
});

describe("an account all of whose events in a batch are conflicts", () => {
  const clock = { now: Date.now() };
  const caughtUp: LedgerOutcome[] = [];
  let ctx: Awaited<ReturnType<typeof testLedger>>;
  beforeAll(async () => {
    ctx = await testLedger({ virtualClock: () => clock.now, onMaintenance: (o) => caughtUp.push(o) });
    for (const id of ["c1", "c2"]) {
      await ctx.ledger.putAccount(id, { plan: "free" });
      await ctx.ledger.startCycle(id, cycle("cyc", 1000));
    }
  });
  afterAll(() => ctx.redis.close());

  it("pushes what the catch-up changed (an expired hold released), and the refusal is unchanged", async () => {
    const started = stageEvent({ accountId: "c1", type: "stage.started", action: "voiceover", seconds: 30 });
    const other = stageEvent({ accountId: "c2", type: "stage.completed", action: "script" });
    const out = await ctx.ledger.applyEvents([started, other]);
    expect(out.map((o) => (o instanceof Error ? o.message : o.balance?.held))).toEqual([30, 0]);
    caughtUp.length = 0;
    // The hold's time-to-live (LEDGER_DEFAULTS: an hour) passes; the next batch of c1 is refused whole.
    clock.now += 2 * 3600_000;
    const again = await ctx.ledger.applyEvents([{ ...started, seconds: 31 }, other]);
    expect(again[0]).toBeInstanceOf(CreditmeterError);
    expect((again[0] as CreditmeterError).message).toMatch(/^conflict: seconds: /);
    expect(again[1]).toMatchObject({ result: { status: "duplicate" } });
    // c1's catch-up, once, with the balance and the session the reply carries; c2 has its outcome.
    expect(caughtUp.map((o) => [o.accountId, o.changed, o.balance?.held, o.balance?.available])).toEqual([
      ["c1", true, 0, 1000],
    ]);
    expect(caughtUp[0]?.sessions.map((s) => [s.sessionId, s.reserved])).toEqual([[started.sessionId, 0]]);
    expect(caughtUp[0]).toMatchObject({ result: null, alert: null, charge: null, repush: false });
  });

  it("raises the crossing its catch-up caused (a cycle ended), kept in the account until queued", async () => {
    await ctx.ledger.putAccount("c3", { plan: "free" });
    // On the virtual clock (ahead of Date.now() by the tests before): the cycle ends in a minute.
    const start = new Date(clock.now - 3_600_000).toISOString();
    const end = new Date(clock.now + 60_000).toISOString();
    expect((await ctx.ledger.startCycle("c3", { cycleId: "cyc", credits: 100, start, end })).balance.available).toBe(
      100,
    );
    const done = stageEvent({ accountId: "c3", type: "stage.completed", action: "script" });
    await ctx.ledger.applyEvent(done);
    caughtUp.length = 0;
    clock.now += 120_000; // the cycle ends: its credits go, available falls to 0
    const again = await ctx.ledger.applyEvents([{ ...done, stepId: "x" }]);
    expect(again.map((o) => (o instanceof CreditmeterError ? o.code : o))).toEqual(["conflict"]);
    expect(caughtUp.map((o) => [o.accountId, o.balance?.available, o.alert?.level, o.alert?.available])).toEqual([
      ["c3", 0, "exhausted", 0],
    ]);
    // Kept among the account's pending raises until queued (onMaintenance settles it, as a read's).
    const record = caughtUp[0]?.raisedRecord;
    expect(record).toMatchObject({ kind: "account", key: ctx.ledger.keys("c3").account });
    expect(record?.raised).toHaveLength(1);
    expect((await ctx.ledger.touch("c3")).owed?.map((o) => o.alert?.level)).toEqual(["exhausted"]);
  });

  it("pushes nothing for such an account when the catch-up changed nothing", async () => {
    const done = stageEvent({ accountId: "c1", type: "stage.completed", action: "script" });
    await ctx.ledger.applyEvent(done);
    caughtUp.length = 0;
    const again = await ctx.ledger.applyEvents([
      { ...done, stepId: "x" },
      { ...done, sessionId: "s2" },
    ]);
    expect(again.map((o) => (o instanceof CreditmeterError ? o.code : o))).toEqual(["conflict", "conflict"]);
    expect(caughtUp).toEqual([]);
  });
});
