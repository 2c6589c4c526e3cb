// The session forecast (CONTRACT §10) against a hand-computed session on the real ledger (Redis,
// the Lua scripts), with the test-only virtual clock placing each charge in a chosen minute.
import { afterAll, describe, expect, it } from "vitest";
import { DEFAULT_PRICE_BOOK, quoteOnEveryPlan, type QuoteItem } from "@creditmeter/shared";
import { accountKeys } from "../../server/src/ledger/keys.js";
import { stageEvent, testLedger } from "../support/ledger.js";

const MINUTE = 60_000;
// T0 starts minute M. C at T0 + r (0 ≤ r < 60 s) is the trailing 300 s: minutes M-4 … M in full
// plus floor(by[M-5] × (60000 − r) / 60000), the part of minute M-5 still inside it.
const T0 = Date.UTC(2026, 0, 5, 12, 0, 0);
let now = T0;
const { ledger, redis, namespace } = await testLedger({ virtualClock: () => now });
afterAll(async () => {
  await redis.close();
});

// free: script 1 + image 4 × 3 + animation 10 s × 20 + voiceover 60 s × 1 = 273; plus and pro: images free, 261.
const PLAN: QuoteItem[] = [
  { action: "script" },
  { action: "image", scenes: 4 },
  { action: "animation", model: "veo-3.1", seconds: 10 },
  { action: "voiceover", seconds: 60 },
];

async function charge(at: number, sessionId: string, fields: Parameters<typeof stageEvent>[0]): Promise<void> {
  now = at;
  await ledger.applyEvent(stageEvent({ ...fields, sessionId }));
}

describe("the forecast of a planned session", () => {
  it("matches the hand-computed numbers, on every path a snapshot takes", async () => {
    const acct = "fc-hand";
    now = T0 - 10 * MINUTE;
    await ledger.putAccount(acct, { plan: "free" });
    await ledger.addPack(acct, { packId: "p1", credits: 363 });

    const set = await ledger.setPlan(acct, "s1", quoteOnEveryPlan(DEFAULT_PRICE_BOOK, PLAN));
    // Nothing charged yet: C = 0, so no burn and no run-out time; 363 available covers 273.
    expect(set.session.forecast).toEqual({
      planned: 273,
      remaining: 273,
      shortfall: 0,
      burnPerMinute: 0,
      runsOutInSeconds: null,
    });
    expect(set.session.seq).toBe(1);
    expect(set.sessions.map((s) => [s.sessionId, s.forecast?.planned])).toEqual([["s1", 273]]);

    // Another session of the account spends too: the account's burn, not the session's.
    await charge(T0 - 6 * MINUTE + 10_000, "s0", {
      type: "stage.completed",
      action: "animation",
      accountId: acct,
      model: "sora-2",
      seconds: 10,
    }); // 100, minute M-6
    await charge(T0 - 4 * MINUTE - 1, "s0", { type: "stage.completed", action: "script", accountId: acct }); // 1, last ms of minute M-5
    await charge(T0 - 4 * MINUTE - 1, "s0", { type: "stage.completed", action: "image", accountId: acct, scenes: 4 }); // 12, minute M-5
    await charge(T0 - 4 * MINUTE, "s1", { type: "stage.completed", action: "script", accountId: acct }); // 1, first ms of minute M-4
    await charge(T0 - 4 * MINUTE, "s1", { type: "stage.completed", action: "image", accountId: acct, scenes: 4 }); // 12
    await charge(T0 - MINUTE + 30_000, "s1", {
      type: "stage.completed",
      action: "animation",
      accountId: acct,
      model: "veo-3.1",
      seconds: 10,
    }); // 200, minute M-1
    now = T0 + 20_000;
    const [held] = await ledger.applyEvents([
      stageEvent({ type: "stage.started", action: "voiceover", accountId: acct, sessionId: "s1", seconds: 20 }),
    ]); // holds 30

    // used 213, reserved 30; available 363 − 100 − 13 − 13 − 200 − 30 = 7.
    // remaining = 273 − 213 − 30 = 30; shortfall = 30 − 7 = 23.
    // 20 s into minute M: C = 13 + 200 (minutes M-4 … M) + floor(13 × 40000 / 60000) = floor(8.67) = 8
    // (the 40 s of minute M-5 still inside the trailing 300 s) = 221; the 100 of minute M-6 is older.
    // burn = round(44.2) = 44 (the whole minutes alone would give 43); runs out in
    // floor(7 × 300 / 221) = floor(9.50) = 9 s.
    const expected = { planned: 273, remaining: 30, shortfall: 23, burnPerMinute: 44, runsOutInSeconds: 9 };
    if (!held || held instanceof Error) throw new Error("the started was not applied");
    expect(held.result).toMatchObject({ decision: "granted", held: 30, available: 7 });
    expect(held.sessions.find((s) => s.sessionId === "s1")?.forecast).toEqual(expected);
    const read = await ledger.session(acct, "s1");
    expect(read).toMatchObject({ used: 213, reserved: 30, forecast: expected });

    // A session without a plan has no forecast.
    expect((await ledger.session(acct, "s0")).forecast).toBeNull();

    // The account's counters: a field per minute. The last write (minute M-1) deleted nothing: minute
    // M-6 is then M-1's m−5, still partly inside the window.
    const burnKey = `${ledger.keys(acct).prefix}burn`;
    const m = Math.floor(T0 / MINUTE);
    expect(await redis.hGetAll(burnKey)).toEqual({
      [String(m - 6)]: "100",
      [String(m - 5)]: "13",
      [String(m - 4)]: "13",
      [String(m - 1)]: "200",
    });
    expect(await redis.pTTL(burnKey)).toBeGreaterThan(6 * MINUTE);

    // At a minute boundary minute m−5 counts in full: at M+1, C = 13 (M-4, whole) + 200 = 213:
    // burn round(42.6) = 43, floor(7 × 300 / 213) = 9 s.
    now = T0 + MINUTE;
    expect((await ledger.session(acct, "s1")).forecast).toEqual({
      ...expected,
      burnPerMinute: 43,
      runsOutInSeconds: 9,
    });
    // 45 s on, M-4's 13 counts for the 15 s left of it: floor(13 × 15000 / 60000) = 3, C = 203:
    // burn round(40.6) = 41, floor(7 × 300 / 203) = floor(10.3) = 10 s.
    now = T0 + MINUTE + 45_000;
    expect((await ledger.session(acct, "s1")).forecast).toEqual({
      ...expected,
      burnPerMinute: 41,
      runsOutInSeconds: 10,
    });

    // Three minutes on: the window is M-2 (nothing) … M+3, so C = 200: burn 40, floor(7 × 300 / 200) = 10 s.
    now = T0 + 3 * MINUTE;
    expect((await ledger.session(acct, "s1")).forecast).toEqual({
      ...expected,
      burnPerMinute: 40,
      runsOutInSeconds: 10,
    });
    // 45 s into M+4 the 200 of minute M-1 (now m−5) counts for its last 15 s: floor(200 × 15000 /
    // 60000) = 50: burn 10, floor(7 × 300 / 50) = 42 s (summing whole minutes only, C would be 0).
    now = T0 + 4 * MINUTE + 45_000;
    expect((await ledger.session(acct, "s1")).forecast).toEqual({
      ...expected,
      burnPerMinute: 10,
      runsOutInSeconds: 42,
    });
    // Its last millisecond: floor(200 × 1 / 60000) = 0. At M+5 minute M-1 is m−6, out: C = 0 either way.
    for (const at of [T0 + 5 * MINUTE - 1, T0 + 5 * MINUTE]) {
      now = at;
      expect((await ledger.session(acct, "s1")).forecast).toEqual({
        ...expected,
        burnPerMinute: 0,
        runsOutInSeconds: null,
      });
    }
    // A charge at M+5 deletes the minutes at or below M-1 (m−6) on its write.
    await charge(T0 + 5 * MINUTE, "s0", { type: "stage.completed", action: "script", accountId: acct });
    expect(await redis.hGetAll(burnKey)).toEqual({ [String(m + 5)]: "1" });
  });

  it("follows the account's plan as the ledger would charge, and is removed by an empty plan", async () => {
    const acct = "fc-plan";
    now = T0;
    await ledger.putAccount(acct, { plan: "free" });
    await ledger.addPack(acct, { packId: "p1", credits: 100 });
    await ledger.setPlan(acct, "s1", quoteOnEveryPlan(DEFAULT_PRICE_BOOK, PLAN));
    expect((await ledger.session(acct, "s1")).forecast).toMatchObject({ planned: 273, remaining: 273, shortfall: 173 });
    await ledger.setPlan(acct, "s2", quoteOnEveryPlan(DEFAULT_PRICE_BOOK, [{ action: "script" }]));
    // A change of plan re-pushes every planned session: seq + 1, the total on the new plan.
    const upgraded = await ledger.putAccount(acct, { plan: "plus" });
    expect(upgraded.sessions.map((s) => [s.sessionId, s.seq, s.forecast?.planned]).sort()).toEqual([
      ["s1", 2, 261],
      ["s2", 2, 1],
    ]);
    expect((await ledger.session(acct, "s1")).forecast).toMatchObject({ planned: 261, remaining: 261, shortfall: 161 });
    // Credits bought: the shortfall is gone at once, pushed without waiting for the video's next step.
    const pack = await ledger.addPack(acct, { packId: "p2", credits: 200 });
    expect(pack.sessions.find((s) => s.sessionId === "s1")).toMatchObject({
      seq: 3,
      forecast: { planned: 261, shortfall: 0 },
    });
    // Removing a plan takes the session out of those re-pushes.
    const removed = await ledger.setPlan(acct, "s1", null);
    expect(removed.session).toMatchObject({ seq: 4, forecast: null });
    const more = await ledger.addPack(acct, { packId: "p3", credits: 1 });
    expect(more.sessions.map((s) => s.sessionId)).toEqual(["s2"]);
  });

  it("keeps only the newest 20 planned sessions indexed, however many the account plans", async () => {
    const acct = "fc-many";
    now = T0;
    await ledger.putAccount(acct, { plan: "free" });
    for (let i = 0; i < 25; i++) {
      now = T0 + i;
      await ledger.setPlan(acct, `s${i}`, quoteOnEveryPlan(DEFAULT_PRICE_BOOK, [{ action: "script" }]));
    }
    // Only the newest 20 are ever re-pushed, so the index holds no more (it would grow for the retention).
    const indexed = await redis.zRange(accountKeys(namespace, acct).plans, 0, -1);
    expect(indexed).toEqual(Array.from({ length: 20 }, (_, i) => `s${i + 5}`));
    const pack = await ledger.addPack(acct, { packId: "p1", credits: 1 });
    expect(pack.sessions.map((s) => s.sessionId).sort()).toEqual([...indexed].sort());
  });
});
