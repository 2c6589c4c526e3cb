/**
 * Records under the event field's 28-character name (lib/idem.lua before the 14-character names):
 * an account that wrote them keeps answering from them. The fixture applies events with this code,
 * then renames each record's field to the whole 28-character eventField and removes the account's
 * "iy" (the release before wrote neither the short names nor "iy"; its record text is the same).
 * Repeats, conflicts, GET …/events/:eventId and the webhooks' mark read those records; new records
 * are stored under 14 characters.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RedisClientType } from "redis";
import { CreditmeterError } from "@creditmeter/shared";
import type { RedisLedger } from "@creditmeter/server";
import { eventField } from "../../server/src/ledger/fingerprint.js";
import { resultFromRecord, webhooksQueued } from "../../server/src/ledger/event-record.js";
import { cycle, stageEvent, testLedger } from "../support/ledger.js";

const acct = "long";

describe("records stored under the 28-character event field (the layout before)", () => {
  let ledger: RedisLedger;
  let redis: RedisClientType;
  let namespace: string;
  const key = (rest: string) => `${namespace}:{${acct}}:${rest}`;

  const granted = stageEvent({ accountId: acct, sessionId: "s", stepId: "a", type: "stage.started", action: "script" });
  const charged = stageEvent({
    accountId: acct,
    sessionId: "s",
    stepId: "b",
    type: "stage.completed",
    action: "voiceover",
    seconds: 12,
  });
  const denied = stageEvent({
    accountId: acct,
    sessionId: "s",
    stepId: "c",
    type: "stage.started",
    action: "animation",
    model: "veo-3.1",
    seconds: 600,
  });
  const first = new Map<string, unknown>();

  /** Every generation hash of the account: its fields. */
  const generations = async (): Promise<Map<string, string[]>> => {
    const out = new Map<string, string[]>();
    for await (const keys of redis.scanIterator({ MATCH: key("ids:*") })) {
      for (const k of keys) out.set(k, await redis.hKeys(k));
    }
    return out;
  };

  beforeAll(async () => {
    ({ ledger, redis, namespace } = await testLedger());
    await ledger.putAccount(acct, { plan: "free" });
    await ledger.startCycle(acct, cycle("c1", 100));
    for (const e of [granted, charged, denied]) first.set(e.eventId, (await ledger.applyEvent(e)).result);
    // As the release before left them: each record under eventField whole, no "iy" on the account.
    await redis.hDel(key("acct"), "iy");
    for (const [k, fields] of await generations()) {
      for (const e of [granted, charged, denied]) {
        const short = eventField(e.eventId).slice(0, 14);
        if (!fields.includes(short)) continue;
        const text = await redis.hGet(k, short);
        if (text === null || text === undefined) throw new Error("no record");
        await redis.hSet(k, eventField(e.eventId), text);
        await redis.hDel(k, short);
      }
    }
  });
  afterAll(() => redis.close());

  it("the fixture stored each record under its 28-character name only", async () => {
    const all = [...(await generations()).values()].flat();
    for (const e of [granted, charged, denied]) {
      expect(all).toContain(eventField(e.eventId));
      expect(all).not.toContain(eventField(e.eventId).slice(0, 14));
    }
  });

  it("repeats answer duplicate, as the first application was answered, and change nothing", async () => {
    const before = await ledger.balance(acct);
    expect((await ledger.applyEvent(granted)).result).toMatchObject({ status: "duplicate", decision: "granted" });
    expect((await ledger.applyEvent(charged)).result).toMatchObject({ status: "duplicate", charged: 0 });
    expect((await ledger.applyEvent(denied)).result).toMatchObject({
      status: "duplicate",
      decision: "denied",
      denyReason: "insufficient_credits",
    });
    expect(await ledger.balance(acct)).toEqual(before);
  });

  it("GET …/events/:eventId answers each record", async () => {
    for (const e of [granted, charged, denied]) {
      const raw = await ledger.readEventRecord(acct, e.eventId);
      expect(raw).not.toBeNull();
      expect(resultFromRecord(raw)).toMatchObject({ status: (first.get(e.eventId) as { status: string }).status });
    }
  });

  it("a reused eventId with another body is a conflict naming the field and its value then", async () => {
    const err = await ledger.applyEvent({ ...charged, seconds: 13 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CreditmeterError);
    expect(err).toMatchObject({ code: "conflict", field: "seconds" });
    expect((err as CreditmeterError).message).toMatch(/^conflict: seconds: .*12/);
  });

  it("the webhooks' mark goes on the record under its 28-character name", async () => {
    expect(webhooksQueued(await ledger.readEventRecord(acct, denied.eventId))).toBe(false);
    await ledger.markWebhooksQueued(acct, denied.eventId);
    expect(webhooksQueued(await ledger.readEventRecord(acct, denied.eventId))).toBe(true);
    const all = [...(await generations()).values()].flat();
    expect(all).not.toContain(eventField(denied.eventId).slice(0, 14));
  });

  it("new records are stored under 14 characters, and the account marks where the long names end", async () => {
    const fresh = stageEvent({
      accountId: acct,
      sessionId: "s",
      stepId: "d",
      type: "stage.progress",
      action: "script",
    });
    expect((await ledger.applyEvent(fresh)).result?.status).toBe("applied");
    const all = [...(await generations()).values()].flat();
    expect(all).toContain(eventField(fresh.eventId).slice(0, 14));
    expect(all).not.toContain(eventField(fresh.eventId));
    expect(await redis.hGet(key("acct"), "iy")).toMatch(/^\d+$/);
    expect((await ledger.applyEvent(fresh)).result?.status).toBe("duplicate");
  });
});

describe("an account created with the 14-character names", () => {
  it("holds no long names: its lookups read one name", async () => {
    const { ledger, redis, namespace } = await testLedger();
    await ledger.putAccount("new", { plan: "free" });
    expect(await redis.hGet(`${namespace}:{new}:acct`, "iy")).toBe("-1");
    const e = stageEvent({ accountId: "new", sessionId: "s", stepId: "a", type: "stage.progress", action: "script" });
    expect((await ledger.applyEvent(e)).result?.status).toBe("applied");
    expect((await ledger.applyEvent(e)).result?.status).toBe("duplicate");
    await redis.close();
  });
});

describe("long names written while the clock ran ahead into the next generation", () => {
  it("are still read once the clock is back more than the slack behind them", async () => {
    const GEN_MS = 15 * 86_400_000;
    const boundary = Math.floor(Date.now() / GEN_MS) * GEN_MS;
    let now = boundary + 5_000; // ahead, in the next generation
    const { ledger, redis, namespace } = await testLedger({ virtualClock: () => now });
    await ledger.putAccount("ahead", { plan: "free" });
    const acctKey = `${namespace}:{ahead}:acct`;
    // Progress events: no audit entry, whose trail a virtual clock may not go behind.
    const event = stageEvent({ accountId: "ahead", type: "stage.progress", action: "script", progress: 0.5 });
    expect((await ledger.applyEvent(event)).result?.status).toBe("applied");
    // As the release before left it: under the 28-character name, no "iy".
    const gen = `${namespace}:{ahead}:ids:${Math.floor(now / GEN_MS)}`;
    const text = await redis.hGet(gen, eventField(event.eventId).slice(0, 14));
    expect(text).toBeTruthy();
    await redis.hSet(gen, eventField(event.eventId), text ?? "");
    await redis.hDel(gen, eventField(event.eventId).slice(0, 14));
    await redis.hDel(acctKey, "iy");
    now = boundary - 2 * 3_600_000; // back, two hours behind: past the slack
    const other = stageEvent({ accountId: "ahead", type: "stage.progress", action: "script", progress: 0.5 });
    expect((await ledger.applyEvent(other)).result?.status).toBe("applied"); // the first write of short names
    expect((await ledger.applyEvent(event)).result?.status).toBe("duplicate");
    await redis.close();
  });
});

describe("a long name in the generation before the current one", () => {
  it("is found by a repeat, GET …/events/:eventId and the webhooks' mark after the boundary", async () => {
    const GEN_MS = 15 * 86_400_000;
    const boundary = Math.floor(Date.now() / GEN_MS) * GEN_MS;
    let now = boundary - 10 * 86_400_000;
    const { ledger, redis, namespace } = await testLedger({ virtualClock: () => now });
    await ledger.putAccount("older", { plan: "free" });
    // Denied (no credits): a record that owes its webhooks, and no audit entry to hold the clock.
    const event = stageEvent({ accountId: "older", type: "stage.started", action: "voiceover", seconds: 40 });
    expect((await ledger.applyEvent(event)).result?.status).toBe("denied");
    const gen = `${namespace}:{older}:ids:${Math.floor(now / GEN_MS)}`;
    const text = await redis.hGet(gen, eventField(event.eventId).slice(0, 14));
    expect(text).toBeTruthy();
    await redis.hSet(gen, eventField(event.eventId), text ?? "");
    await redis.hDel(gen, eventField(event.eventId).slice(0, 14));
    await redis.hDel(`${namespace}:{older}:acct`, "iy");
    now = boundary + 3 * 86_400_000; // the next generation, within the retention
    const other = stageEvent({ accountId: "older", type: "stage.progress", action: "script", progress: 0.5 });
    expect((await ledger.applyEvent(other)).result?.status).toBe("applied"); // the first short name: sets "iy"
    expect((await ledger.applyEvent(event)).result).toMatchObject({ status: "duplicate", decision: "denied" });
    expect(webhooksQueued(await ledger.readEventRecord("older", event.eventId))).toBe(false);
    await ledger.markWebhooksQueued("older", event.eventId);
    expect(webhooksQueued(await ledger.readEventRecord("older", event.eventId))).toBe(true);
    expect(await redis.hKeys(gen)).not.toContain(eventField(event.eventId).slice(0, 14));
    await redis.close();
  });
});
