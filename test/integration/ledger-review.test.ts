import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RedisClientType } from "redis";
import { RedisLedger } from "@creditmeter/server";
import { LEDGER_DEFAULTS, cycle, stageEvent, testLedger } from "../support/ledger.js";
import { waitFor } from "../support/redis-server.js";

// Edge cases found by reviewing the ledger against CONTRACT §2–4 and §7, each on an account of its own.
describe("ledger review", () => {
  let ledger: RedisLedger;
  let redis: RedisClientType;
  let namespace: string;
  let n = 0;
  async function account(credits: number, endInMs?: number): Promise<string> {
    n += 1;
    const id = `acct-${n}`;
    await ledger.putAccount(id, { plan: "free" });
    if (credits > 0) await ledger.startCycle(id, cycle(`c-${n}`, credits, endInMs));
    return id;
  }
  const passed = (ms: number) => waitFor(() => Date.now() > ms, 10_000, "the moment to pass");

  beforeAll(async () => {
    ({ ledger, redis, namespace } = await testLedger({ holdTtlSeconds: 1 }));
  });
  afterAll(async () => {
    await redis.close();
  });

  it("a dismiss that finds the cycle ended raises the crossing it applied (the push is not lost)", async () => {
    const id = await account(100, 1000);
    await passed(Date.now() + 1100);
    const out = await ledger.dismissAlert(id, "low");
    expect(out.balance).toMatchObject({ available: 0, alert: { level: "exhausted", dismissed: false } });
    expect(out.alert).toMatchObject({ level: "exhausted", threshold: 0, available: 0 });
  });

  it("applies what time made due in time order: a hold that expired before the cycle end does not shrink a newer one", async () => {
    const longHolds = new RedisLedger({
      redis,
      namespace,
      ...LEDGER_DEFAULTS,
    });
    const id = await account(50, 2500);
    await ledger.addPack(id, { packId: "p", credits: 50 });
    // A: 60 credits held for 1 s; B, placed later: 40 credits held for an hour.
    await ledger.applyEvent(
      stageEvent({ accountId: id, type: "stage.started", action: "talking_head", seconds: 6, stepId: "A" }),
    );
    const b = await longHolds.applyEvent(
      stageEvent({ accountId: id, type: "stage.started", action: "talking_head", seconds: 4, stepId: "B" }),
    );
    expect(b.balance).toMatchObject({ available: 0, held: 100 });
    const end = Date.parse((b.balance ?? { cycle: null }).cycle?.end ?? "");
    await passed(end + 100);
    // In time: A expired (held 40), then the cycle's 50 went; 50 remain, B's 40 still fit.
    expect(await ledger.balance(id)).toMatchObject({ available: 10, held: 40, overdraft: 0 });
    expect(await ledger.session(id, "s1")).toMatchObject({ reserved: 40 });
  });

  it("reports balances above 10^14 credits exactly (cjson keeps only 14 significant digits)", async () => {
    const id = await account(0);
    await ledger.adjust(id, { adjustmentId: "one", credits: -1, reason: "debit" });
    for (let i = 0; i < 101; i += 1) {
      await ledger.adjust(id, { adjustmentId: `big-${i}`, credits: -1e12, reason: "debit" });
    }
    expect(await ledger.balance(id)).toMatchObject({ overdraft: 101_000_000_000_001, available: 0 });
  });

  it("accepts a cycle dated before 1970 and expires it at once", async () => {
    const id = await account(0);
    const out = await ledger.startCycle(id, {
      cycleId: "old",
      credits: 40,
      start: "1960-01-01T00:00:00Z",
      end: "1965-01-01T00:00:00Z",
    });
    expect(out.balance).toMatchObject({
      available: 0,
      buckets: [expect.objectContaining({ id: "old", remaining: 0 })],
    });
    expect((await ledger.ledgerPage(id, { limit: 10 })).entries.map((e) => [e.kind, e.amount])).toEqual([
      ["expiry", 40],
      ["grant", 40],
    ]);
  });

  it("counts usage in [from, to): a charge applied at `to` is outside the window", async () => {
    const id = await account(100);
    await ledger.applyEvent(stageEvent({ accountId: id, type: "stage.completed", action: "script" }));
    const [entry] = (await ledger.ledgerPage(id, { limit: 1 })).entries;
    expect(entry?.kind).toBe("charge");
    const at = entry?.at ?? "";
    expect(
      (await ledger.usage(id, { from: at, to: new Date(Date.parse(at) + 1).toISOString(), groupBy: "action" })).total,
    ).toBe(1);
    expect((await ledger.usage(id, { to: at, groupBy: "action" })).total).toBe(0);
  });

  it("remembers an event until its occurredAt is past the idempotency retention, even one stamped in the future", async () => {
    const short = await testLedger({ idempotencyRetentionSeconds: 1 });
    try {
      await short.ledger.putAccount("a", { plan: "free" });
      await short.ledger.startCycle("a", cycle("c", 100));
      // Within the 5 minutes of clock skew the consumer accepts.
      const event = stageEvent({
        accountId: "a",
        type: "stage.completed",
        action: "script",
        occurredAt: new Date(Date.now() + 120_000).toISOString(),
      });
      expect((await short.ledger.applyEvent(event)).result).toMatchObject({ status: "applied", charged: 1 });
      await passed(Date.now() + 1200);
      // Still inside occurredAt + retention, so the consumer would accept the redelivery: it must be a duplicate.
      expect((await short.ledger.applyEvent(event)).result).toMatchObject({
        status: "duplicate",
        charged: 0,
        available: 99,
      });
    } finally {
      await short.redis.close();
    }
  });
});
