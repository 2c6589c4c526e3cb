/**
 * RedisLedger's test-only virtual clock: the scripts take "now" from it (holds expire and audit
 * entries are dated by it), and a ledger without it keeps Redis's own clock.
 */
import { describe, expect, it } from "vitest";
import { stageEvent, testLedger } from "../support/ledger.js";

describe("virtual clock (tests only)", () => {
  it("a hold expires when the virtual clock passes its time-to-live, and entries carry that time", async () => {
    let now = Date.UTC(2026, 0, 1);
    const { ledger, redis } = await testLedger({ holdTtlSeconds: 60, virtualClock: () => now });
    await ledger.putAccount("vc", { plan: "free" });
    await ledger.addPack("vc", { packId: "p1", credits: 100 });
    await ledger.applyEvent(stageEvent({ accountId: "vc", type: "stage.started", action: "talking_head", seconds: 3 }));
    expect((await ledger.balance("vc")).held).toBe(30);
    now += 59_000;
    expect((await ledger.balance("vc")).held).toBe(30);
    now += 1_000;
    expect((await ledger.balance("vc")).held).toBe(0);
    const entries = (await ledger.ledgerPage("vc", { limit: 10 })).entries;
    // v1 wrote the expiry as a release; CONTRACT v1.1 as an expiry entry.
    expect(["release", "expiry"]).toContain(entries[0]?.kind);
    expect(entries[0]).toMatchObject({ amount: 30, at: new Date(now).toISOString() });
    await redis.close();
  });

  it("without it the ledger keeps Redis's clock", async () => {
    const { ledger, redis } = await testLedger();
    const before = Date.now();
    await ledger.putAccount("rc", { plan: "free" });
    await ledger.addPack("rc", { packId: "p1", credits: 5 });
    const [grant] = (await ledger.ledgerPage("rc", { limit: 1 })).entries;
    expect(Date.parse(grant?.at ?? "")).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(grant?.at ?? "")).toBeLessThanOrEqual(Date.now() + 1000);
    await redis.close();
  });
});
