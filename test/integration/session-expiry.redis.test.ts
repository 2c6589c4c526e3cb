// A session's totals expire no earlier than the ledger retention after its last write (docs/ledger.md),
// but its expiry is pushed a day past that at most about once a day, not by every script that
// writes it (lua/lib/session.lua session_flush; docs/performance.md, eighth session). Why raw keys:
// the promise is a property of the key's TTL and of its "xp" mark, which no API answer shows.
//
// Under the test's virtual clock the scripts' time jumps while Redis's own barely moves, so the
// key's expiry on the scripts' clock is the virtual instant of the last push + the PTTL it set
// (a push is seen as a new "xp"); it must be at least the retention after every write.
import { describe, expect, it } from "vitest";
import { RedisLedger } from "@creditmeter/server";
import { LEDGER_DEFAULTS, stageEvent, testLedger } from "../support/ledger.js";

const DAY = 86_400_000;
const HOUR = 3_600_000;
const RETENTION_DAYS = 2;

describe("session expiry", () => {
  it("stays at least the retention after every write, pushed about once a day", async () => {
    let now = Date.now();
    const { ledger, redis } = await testLedger({ virtualClock: () => now, ledgerRetentionDays: RETENTION_DAYS });
    await ledger.putAccount("sx", { plan: "free" });
    const key = ledger.keys("sx").session("s1");
    const start = now;
    let expiresAt = 0;
    let mark: string | null = null;
    let pushes = 0;
    // A write every 5 hours over 4 days.
    for (let t = start; t <= start + 4 * DAY; t += 5 * HOUR) {
      now = t;
      const out = await ledger.applyEvent(stageEvent({ accountId: "sx", type: "stage.completed", action: "script" }));
      expect(out.result?.status).toBe("applied");
      const [xp, ttl] = [await redis.hGet(key, "xp"), await redis.pTTL(key)];
      if (xp !== mark) {
        pushes++;
        mark = xp;
        expiresAt = t + ttl;
        // The mark never claims more than the push gave.
        expect(Number(xp)).toBeLessThanOrEqual(expiresAt);
      }
      expect(expiresAt).toBeGreaterThanOrEqual(t + RETENTION_DAYS * DAY);
      expect(Number(mark)).toBeGreaterThanOrEqual(t + RETENTION_DAYS * DAY);
    }
    // 20 writes over 4 days: the first and then about one a day, not one per write.
    expect(pushes).toBeGreaterThanOrEqual(4);
    expect(pushes).toBeLessThanOrEqual(5);
    // The mark is the key's, not the session's: no answer shows it.
    expect(await ledger.session("sx", "s1")).not.toHaveProperty("xp");
    await redis.close();
  });

  it("a write within the day leaves the expiry alone; a longer retention pushes it at once", async () => {
    let now = Date.now();
    const { ledger, redis, namespace } = await testLedger({
      virtualClock: () => now,
      ledgerRetentionDays: RETENTION_DAYS,
    });
    await ledger.putAccount("sy", { plan: "free" });
    const charge = () => stageEvent({ accountId: "sy", type: "stage.completed", action: "script" });
    const key = ledger.keys("sy").session("s1");
    await ledger.applyEvent(charge());
    const first = await redis.pTTL(key);
    expect(first).toBeGreaterThan((RETENTION_DAYS + 1) * DAY - 2 * 60_000);
    // Moved by hand to tell a push from none: a write an hour later does not touch it.
    await redis.pExpire(key, first + HOUR);
    now += HOUR;
    await ledger.applyEvent(charge());
    expect(await redis.pTTL(key)).toBeGreaterThan(first + HOUR - 60_000);
    // A process configured with a longer retention: the mark falls short of it, so the write pushes.
    const longer = new RedisLedger({
      redis,
      namespace,
      ...LEDGER_DEFAULTS,
      ledgerRetentionDays: RETENTION_DAYS + 10,
      virtualClock: () => now,
    });
    await longer.applyEvent(charge());
    expect(await redis.pTTL(key)).toBeGreaterThanOrEqual((RETENTION_DAYS + 10) * DAY);
    await redis.close();
  });
});
