/**
 * The idempotency generations (server/src/ledger/lua/lib/idem.lua) under a clock that steps back
 * across a generation boundary (a Redis failover to a replica whose clock is a few seconds behind;
 * here the test's virtual clock): the account's "ix" then lies in a later generation than the one
 * the script writes to, and a repeat must still be found there, not applied (and charged) again.
 */
import { describe, expect, it } from "vitest";
import { stageEvent, testLedger } from "../support/ledger.js";

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
