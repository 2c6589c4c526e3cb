/**
 * CONTRACT §4 (v1.1): a hold that expires writes an `expiry` entry (amount = the credits it
 * returned), and a charge entry carries `units`, `rate`, `model` and `priceBookVersion`, so that a
 * disputed charge can be recomputed from its entry alone: `units` is what was billed (ceil'd
 * seconds, or scenes; null for a flat action) and `(units ?? 1) × rate = amount`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_PRICE_BOOK, type LedgerEntry, type Plan } from "@creditmeter/shared";
import type { RedisLedger } from "@creditmeter/server";
import type { RedisClientType } from "redis";
import { cycle, stageEvent, testLedger } from "../support/ledger.js";
import { waitFor } from "../support/redis-server.js";

describe("ledger entries", () => {
  let ledger: RedisLedger;
  let redis: RedisClientType;
  beforeAll(async () => {
    ({ ledger, redis } = await testLedger({ holdTtlSeconds: 1 }));
  });
  afterAll(() => redis.close());

  const entries = async (accountId: string): Promise<LedgerEntry[]> => (await ledger.ledgerPage(accountId, { limit: 1000 })).entries;

  it("writes an expiry entry, with the credits returned, when a hold expires", async () => {
    await ledger.putAccount("exp", { plan: "free" });
    await ledger.startCycle("exp", cycle("c1", 100));
    const started = stageEvent({ accountId: "exp", sessionId: "s-exp", type: "stage.started", action: "voiceover", seconds: 42.5 });
    expect((await ledger.applyEvent(started)).result).toMatchObject({ status: "applied", held: 43 });
    // The hold's time-to-live is 1 s: wait until a balance read (which applies what is due) returns it.
    await waitFor(async () => (await ledger.balance("exp")).held === 0, 10_000, "the hold to expire");
    const [latest] = await entries("exp");
    expect(latest).toMatchObject({ kind: "expiry", amount: 43, sessionId: "s-exp", balanceAfter: { available: 100, held: 0 } });
  });

  it("gives every charge entry units × rate = amount, on every plan and kind of unit", async () => {
    const cases: { plan: Plan; partial: Parameters<typeof stageEvent>[0] }[] = [];
    for (const plan of ["free", "plus", "pro"] as const) {
      const accountId = `rate-${plan}`;
      await ledger.putAccount(accountId, { plan });
      await ledger.startCycle(accountId, cycle("c1", 10_000));
      for (const partial of [
        { accountId, type: "stage.completed", action: "voiceover", seconds: 20.2 },
        { accountId, type: "stage.completed", action: "music", seconds: 0.4 },
        { accountId, type: "stage.completed", action: "animation", model: "veo-3.1", seconds: 4.2 },
        { accountId, type: "stage.completed", action: "animation", model: "sora-2", seconds: 8 },
        { accountId, type: "stage.completed", action: "talking_head", seconds: 3.01 },
        { accountId, type: "stage.completed", action: "image", scenes: 7 },
        { accountId, type: "stage.completed", action: "script" },
        { accountId, type: "stage.completed", action: "web_research" },
      ] as const) {
        cases.push({ plan, partial });
        await ledger.applyEvent(stageEvent(partial));
      }
    }
    const charges = (await Promise.all(["free", "plus", "pro"].map((p) => entries(`rate-${p}`)))).flat().filter((e) => e.kind === "charge");
    expect(charges).toHaveLength(cases.length);
    for (const e of charges) {
      const what = `${e.action ?? "?"} ${e.eventId ?? "?"}`;
      expect(e.rate, what).toEqual(expect.any(Number));
      expect((e.units ?? 1) * (e.rate ?? NaN), what).toBe(e.amount);
      expect(e.priceBookVersion, what).toBe(DEFAULT_PRICE_BOOK.version);
    }
    const byAction = (action: string) => charges.filter((e) => e.action === action);
    // Billed units: ceil'd seconds, scenes; null for flat actions.
    expect(byAction("voiceover").map((e) => e.units)).toEqual([21, 21, 21]);
    expect(byAction("music").map((e) => e.units)).toEqual([1, 1, 1]);
    expect(byAction("talking_head").map((e) => [e.units, e.rate])).toEqual([[4, 10], [4, 10], [4, 10]]);
    expect(byAction("animation").map((e) => [e.model, e.units, e.rate]).sort()).toEqual(
      [["sora-2", 8, 10], ["sora-2", 8, 10], ["sora-2", 8, 10], ["veo-3.1", 5, 20], ["veo-3.1", 5, 20], ["veo-3.1", 5, 20]].sort(),
    );
    // 0 per scene on plus and pro, 3 on free.
    expect(byAction("image").map((e) => [e.units, e.rate, e.amount]).sort()).toEqual([[7, 0, 0], [7, 0, 0], [7, 3, 21]]);
    expect(byAction("script").map((e) => [e.units, e.rate, e.model])).toEqual([[null, 1, null], [null, 1, null], [null, 1, null]]);
  });
});
