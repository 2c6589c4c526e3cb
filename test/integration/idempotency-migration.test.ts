/**
 * Issue 17, the compact idempotency layout (server/src/ledger/lua/lib/idem.lua): an account the
 * release before wrote keeps working. That release kept one JSON key per eventId (`evt:<eventId>`)
 * and one key per step (`st:<sid>/<step>`), each with the idempotency retention as its TTL; the
 * fixture below writes them as it did (its records' fields and order, lib/apply.lua before), on an
 * account whose hash has no "ix" (as that release left every account). Repeats, conflicts, step
 * states, owed webhooks and GET …/events/:eventId answer from them as before; new writes go to the
 * generation hashes only; once the retention has passed since the account's first new write, the
 * old keys (expired by then in production) are no longer read.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RedisClientType } from "redis";
import { CreditmeterError, type StageEvent } from "@creditmeter/shared";
import type { RedisLedger } from "@creditmeter/server";
import { resultFromRecord, webhooksQueued } from "../../server/src/ledger/event-record.js";
import { asAccountOfLayoutBefore, cycle, stageEvent, testLedger } from "../support/ledger.js";

const RETENTION_MS = 30 * 86_400_000;
const acct = "mig";

/** The fingerprint array the release before stored (`f`). */
function oldFingerprint(e: StageEvent): unknown[] {
  return [
    e.type,
    e.sessionId,
    e.stepId,
    e.action,
    e.model ?? null,
    e.scenes === 1 ? null : (e.scenes ?? null),
    e.seconds ?? null,
  ];
}

describe("an account written by the layout before (evt:/st: keys)", () => {
  let ledger: RedisLedger;
  let redis: RedisClientType;
  let namespace: string;
  const key = (rest: string) => `${namespace}:{${acct}}:${rest}`;
  /** An idempotency record as the release before wrote it (hand-built JSON, SET … PX retention). */
  const writeOld = async (e: StageEvent, body: string) => {
    await redis.set(
      key(`evt:${e.eventId}`),
      `{${body},"f":${JSON.stringify(oldFingerprint(e))}`.replace(/,"f":(.*)$/, (_m, f: string) => `,"f":${f}}`),
      { PX: RETENTION_MS },
    );
  };
  const writeOldStep = (e: StageEvent, state: string) =>
    redis.set(key(`st:${e.sessionId}/${e.stepId}`), state, { PX: RETENTION_MS });
  /** A script step of the old session. */
  const oldStep = (stepId: string, type: StageEvent["type"]) =>
    stageEvent({ accountId: acct, sessionId: "s-old", stepId, type, action: "script" });

  beforeAll(async () => {
    ({ ledger, redis, namespace } = await testLedger());
    await ledger.putAccount(acct, { plan: "free" });
    await ledger.startCycle(acct, cycle("c1", 1000));
    await asAccountOfLayoutBefore(redis, namespace, acct);
  });
  afterAll(() => redis.close());

  const granted = oldStep("o-1", "stage.started");
  const charged = stageEvent({
    accountId: acct,
    sessionId: "s-old",
    stepId: "o-2",
    type: "stage.completed",
    action: "voiceover",
    seconds: 12,
  });
  const denied = stageEvent({
    accountId: acct,
    sessionId: "s-old",
    stepId: "o-3",
    type: "stage.started",
    action: "animation",
    model: "veo-3.1",
    seconds: 8,
  });

  it("answers repeats and GET …/events/:eventId from the old records, as before", async () => {
    await writeOld(granted, '"s":"applied","c":0,"h":1,"d":"granted","av":999,"su":0');
    await writeOld(charged, '"s":"applied","c":12,"h":0,"av":988,"su":12');
    await writeOld(
      denied,
      '"s":"denied","c":0,"h":0,"d":"denied","dr":"insufficient_credits","av":988,"su":12,"t":1733300000000,"rq":800',
    );
    const out = await ledger.applyEvents([granted, charged, denied]);
    const results = out.map((o) => (o instanceof Error ? o.message : o.result));
    expect(results).toEqual([
      { status: "duplicate", charged: 0, held: 0, available: 1000, sessionUsed: 0, decision: "granted" },
      { status: "duplicate", charged: 0, held: 0, available: 1000, sessionUsed: 0 },
      {
        status: "duplicate",
        charged: 0,
        held: 0,
        available: 1000,
        sessionUsed: 0,
        decision: "denied",
        denyReason: "insufficient_credits",
      },
    ]);
    expect((await ledger.balance(acct)).used).toBe(0);
    // The first answers, as GET …/events/:eventId reads them.
    expect(resultFromRecord(await ledger.readEventRecord(acct, granted.eventId))).toEqual({
      status: "applied",
      charged: 0,
      held: 1,
      available: 999,
      sessionUsed: 0,
      decision: "granted",
    });
    expect(resultFromRecord(await ledger.readEventRecord(acct, charged.eventId))).toEqual({
      status: "applied",
      charged: 12,
      held: 0,
      available: 988,
      sessionUsed: 12,
    });
    expect(resultFromRecord(await ledger.readEventRecord(acct, denied.eventId))).toMatchObject({
      status: "denied",
      denyReason: "insufficient_credits",
    });
  });

  it("still owes an old record's webhooks until they are marked queued, in the old record", async () => {
    const again = await ledger.applyEvent(denied);
    expect(again.reraise?.denied).toMatchObject({
      required: 800,
      available: 988,
      reason: "insufficient_credits",
      at: new Date(1733300000000).toISOString(),
    });
    await ledger.markWebhooksQueued(acct, denied.eventId);
    expect(webhooksQueued(await redis.get(key(`evt:${denied.eventId}`)))).toBe(true);
    expect((await ledger.applyEvent(denied)).reraise).toBeNull();
  });

  it("refuses a reused eventId of an old record with another body, naming the field and its old value", async () => {
    const [session, step, seconds] = await ledger.applyEvents([
      { ...charged, sessionId: "s-other" },
      { ...charged, stepId: "o-9" },
      { ...charged, seconds: 13 },
    ]);
    expect(session).toBeInstanceOf(CreditmeterError);
    expect((session as Error).message).toBe(
      `conflict: sessionId: eventId "${charged.eventId}" was already applied with sessionId "s-old", this event has "s-other"`,
    );
    expect((step as Error).message).toMatch(/^conflict: stepId: .* with stepId "o-2", this event has "o-9"$/);
    expect((seconds as Error).message).toMatch(/^conflict: seconds: .* with seconds 12, this event has 13$/);
  });

  it("keeps the old step states: an ended step ignores a new eventId, a held one is not held twice", async () => {
    const done = oldStep("o-4", "stage.completed");
    const failed = oldStep("o-5", "stage.failed");
    await writeOldStep(done, "completed");
    await writeOldStep(failed, "failed");
    const out = await ledger.applyEvents([
      stageEvent({ ...done, eventId: "new-1" }),
      stageEvent({ ...failed, eventId: "new-2", type: "stage.started" }),
      stageEvent({ ...failed, eventId: "new-3", type: "stage.completed" }),
    ]);
    expect(out.map((o) => (o instanceof Error ? o.message : o.result?.status))).toEqual([
      "ignored",
      "ignored",
      "ignored",
    ]);
    expect((await ledger.balance(acct)).used).toBe(0);
  });

  it("writes new events in the new layout only, and a later step state there wins over the old key", async () => {
    const held = oldStep("o-6", "stage.started");
    await writeOldStep(held, "denied"); // a denied step stays open: started tries again
    const out = await ledger.applyEvents([
      stageEvent({ ...held, eventId: "new-4" }),
      stageEvent({ ...held, eventId: "new-5", type: "stage.completed" }),
    ]);
    expect(out.map((o) => (o instanceof Error ? o.message : o.result?.status))).toEqual(["applied", "applied"]);
    expect(await redis.exists([key("evt:new-4"), key("evt:new-5")])).toBe(0);
    expect(await redis.get(key(`st:${held.sessionId}/${held.stepId}`))).toBe("denied");
    // The old key still says denied; the generation's completed is newer and wins.
    const late = await ledger.applyEvent(stageEvent({ ...held, eventId: "new-6", type: "stage.started" }));
    expect(late.result?.status).toBe("ignored");
    expect(resultFromRecord(await ledger.readEventRecord(acct, "new-5"))).toMatchObject({
      status: "applied",
      charged: 1,
    });
    // The account now says when it first wrote the new layout.
    expect(Number(await redis.hGet(key("acct"), "ix"))).toBeGreaterThan(Date.now() - 60_000);
  });

  it("stops reading the old keys once the retention has passed since the first new write", async () => {
    const stale = oldStep("o-7", "stage.completed");
    await writeOld(stale, '"s":"applied","c":1,"h":0,"av":999,"su":1');
    expect(resultFromRecord(await ledger.readEventRecord(acct, stale.eventId))).toMatchObject({ charged: 1 });
    // In production such a key has expired by then; here it is still there, and no longer read.
    await redis.hSet(key("acct"), "ix", String(Date.now() - RETENTION_MS - 2 * 3_600_000));
    expect(await ledger.readEventRecord(acct, stale.eventId)).toBeNull();
    expect((await ledger.applyEvent(stale)).result?.status).toBe("applied");
  });
});
