/**
 * The sweeper's deadlines index (a sorted set no API exposes) must empty once nothing is due:
 * an account whose holds all ended must not be swept again every second. This file reads the
 * raw index key for that reason.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RedisClientType } from "redis";
import { sweepOnce, type RedisLedger } from "@creditmeter/server";
import { cycle, stageEvent, testLedger } from "../support/ledger.js";
import { RecordingPublisher } from "../support/pipeline.js";
import { waitFor } from "../support/redis-server.js";

describe("hold-expiry sweeper", () => {
  let ledger: RedisLedger;
  let redis: RedisClientType;
  let namespace: string;
  beforeAll(async () => {
    ({ ledger, redis, namespace } = await testLedger({ holdTtlSeconds: 1 }));
  });
  afterAll(async () => {
    await redis.close();
  });

  it("pushes an expiry, and forgets an account once nothing of it is due", async () => {
    const publisher = new RecordingPublisher();
    await ledger.putAccount("sw-1", { plan: "free" });
    await ledger.startCycle("sw-1", cycle("c", 100));
    // One hold that will expire, one whose step completes before its time-to-live.
    await ledger.applyEvent(stageEvent({ accountId: "sw-1", type: "stage.started", action: "script", stepId: "left" }));
    await ledger.applyEvent(stageEvent({ accountId: "sw-1", type: "stage.started", action: "script", stepId: "done" }));
    await ledger.applyEvent(stageEvent({ accountId: "sw-1", type: "stage.completed", action: "script", stepId: "done" }));
    const index = `${namespace}:deadlines`;
    await waitFor(async () => (await redis.zScore(index, "sw-1")) !== null, 2000, "the hold's deadline in the index");

    await waitFor(async () => (await sweepOnce(ledger, publisher)) > 0 && publisher.outcomes.length > 0, 5000, "the sweeper to expire the hold");
    expect(publisher.outcomes.at(-1)?.balance).toMatchObject({ held: 0, available: 99 });
    // Only the cycle end is left; sweeping again finds nothing due and pushes nothing.
    const pushed = publisher.outcomes.length;
    expect(await sweepOnce(ledger, publisher)).toBe(0);
    expect(publisher.outcomes.length).toBe(pushed);
    expect(Number(await redis.zScore(index, "sw-1"))).toBeGreaterThan(Date.now() + 86_400_000);
  });

  it("does not come back to an account whose holds all ended before their time-to-live", async () => {
    const publisher = new RecordingPublisher();
    await ledger.putAccount("sw-2", { plan: "free" });
    await ledger.addPack("sw-2", { packId: "p", credits: 50 });
    await ledger.applyEvent(stageEvent({ accountId: "sw-2", type: "stage.started", action: "script", stepId: "s" }));
    await ledger.applyEvent(stageEvent({ accountId: "sw-2", type: "stage.completed", action: "script", stepId: "s" }));
    const index = `${namespace}:deadlines`;
    await waitFor(async () => Number(await redis.zScore(index, "sw-2")) <= Date.now(), 3000, "the stale deadline to pass");
    await sweepOnce(ledger, publisher);
    expect(await redis.zScore(index, "sw-2")).toBeNull();
    expect(await sweepOnce(ledger, publisher)).toBe(0);
    expect(publisher.outcomes.filter((o) => o.accountId === "sw-2")).toEqual([]);
  });

  it("sweeps the other accounts when one fails, reports it and moves it back a minute", async () => {
    const publisher = new RecordingPublisher();
    await ledger.putAccount("sw-good", { plan: "free" });
    await ledger.startCycle("sw-good", cycle("c", 100));
    await ledger.applyEvent(stageEvent({ accountId: "sw-good", type: "stage.started", action: "script", stepId: "left" }));
    // A broken account (its hash is not a hash): every script on it errors. It is due first.
    const index = `${namespace}:deadlines`;
    await redis.set(ledger.keys("sw-bad").account, "not a hash");
    await redis.zAdd(index, { score: 1, value: "sw-bad" });
    await waitFor(async () => Number(await redis.zScore(index, "sw-good")) <= Date.now(), 3000, "the hold to expire");

    const failures: string[] = [];
    const now = Date.now();
    await sweepOnce(ledger, publisher, now, (accountId) => failures.push(accountId));
    expect(failures).toEqual(["sw-bad"]);
    expect(publisher.outcomes.find((o) => o.accountId === "sw-good")?.balance).toMatchObject({ held: 0, available: 100 });
    // Out of the way of the next passes, but not forgotten.
    expect(Number(await redis.zScore(index, "sw-bad"))).toBe(now + 60_000);
  });
});
