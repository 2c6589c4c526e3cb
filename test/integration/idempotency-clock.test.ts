/**
 * The idempotency generations (server/src/ledger/lua/lib/idem.lua) under a clock that steps back
 * across a generation boundary (a Redis failover to a replica whose clock is a few seconds behind;
 * here the test's virtual clock): the account's "ix" then lies in a later generation than the one
 * the script writes to, and a repeat must still be found there, not applied (and charged) again.
 */
import { describe, expect, it } from "vitest";
import { asAccountOfLayoutBefore, cycle, stageEvent, testLedger } from "../support/ledger.js";

const GEN_MS = 15 * 86_400_000;

describe("idempotency generations and a clock step back", () => {
  it("a repeat after the clock stepped back behind the account's first write is a duplicate", async () => {
    const boundary = Math.floor(Date.now() / GEN_MS) * GEN_MS;
    let now = boundary + 10_000;
    const { ledger, redis } = await testLedger({ virtualClock: () => now });
    // Created 10 s into a generation: "ix" is "n<boundary + 10 s>".
    await ledger.putAccount("cb", { plan: "free" });
    // The clock steps back 15 s: the scripts now write into the generation before.
    now = boundary - 5_000;
    const charge = stageEvent({ accountId: "cb", type: "stage.completed", action: "script" });
    const first = await ledger.applyEvent(charge);
    expect(first.result?.status).toBe("applied");
    const again = await ledger.applyEvent(charge);
    expect(again.result?.status).toBe("duplicate");
    expect(again.result?.charged).toBe(0);
    // And once the clock is past the boundary again.
    now = boundary + 20_000;
    const later = await ledger.applyEvent(charge);
    expect(later.result?.status).toBe("duplicate");
    expect((await ledger.balance("cb")).overdraft).toBe(first.result?.charged);
    expect(await ledger.readEventRecord("cb", charge.eventId)).not.toBe("");
    await redis.close();
  });
});

describe("idempotency generations: read before written", () => {
  it("a generation key of the wrong type fails the script before it writes anything, on an account of the layout before too", async () => {
    const { ledger, redis, namespace } = await testLedger();
    await ledger.putAccount("wt", { plan: "free" });
    await ledger.startCycle("wt", cycle("c1", 100));
    // The account of the release before (no "ix"), and a fault where its current generation goes.
    await asAccountOfLayoutBefore(redis, namespace, "wt");
    const [secs] = (await redis.sendCommand(["TIME"])) as string[];
    const g = Math.floor((Number(secs) * 1000) / GEN_MS);
    await redis.set(`${namespace}:{wt}:ids:${g}`, "not a hash");
    const before = await ledger.balance("wt");
    const charge = stageEvent({ accountId: "wt", type: "stage.completed", action: "script" });
    await expect(ledger.applyEvent(charge)).rejects.toThrow(/WRONGTYPE/);
    // Nothing charged that no record remembers: a retry must not charge it twice.
    expect(await ledger.balance("wt")).toEqual(before);
    await redis.close();
  });
});
