/**
 * The idempotency generations (server/src/ledger/lua/lib/idem.lua) under a clock that steps back
 * across a generation boundary (a Redis failover to a replica whose clock is a few seconds behind;
 * here the test's virtual clock): the account's "ix" then lies in a later generation than the one
 * the script writes to, and a repeat must still be found there, not applied (and charged) again.
 * Also: the current generation is read before it is written, and (fast-check) any clock path of
 * forward steps and small steps back finds every repeat within the retention.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { resultFromRecord } from "../../server/src/ledger/event-record.js";
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
    // The record GET …/events/:eventId answers from is the first application's (null would be a miss).
    expect(await ledger.readEventRecord("cb", charge.eventId)).not.toBeNull();
    expect(resultFromRecord(await ledger.readEventRecord("cb", charge.eventId))).toMatchObject({
      status: "applied",
      charged: first.result?.charged,
    });
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

describe("idempotency generations: any clock path", () => {
  it("a repeat within the retention of its first application is a duplicate, across boundaries and small steps back", async () => {
    const DAY = 86_400_000;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            // Mostly forward (up to 9 days), now and then up to 30 minutes back.
            step: fc.oneof(
              { weight: 4, arbitrary: fc.integer({ min: 0, max: 9 * DAY }) },
              { weight: 1, arbitrary: fc.integer({ min: -1_800_000, max: 0 }) },
            ),
            repeat: fc.nat(),
          }),
          { minLength: 2, maxLength: 25 },
        ),
        fc.integer({ min: -DAY, max: DAY }),
        async (ops, start) => {
          let now = Math.floor(Date.now() / GEN_MS) * GEN_MS + start;
          const { ledger, redis } = await testLedger({
            idempotencyRetentionSeconds: 20 * 86_400,
            virtualClock: () => now,
          });
          await ledger.putAccount("any", { plan: "free" });
          const applied: { event: ReturnType<typeof stageEvent>; at: number }[] = [];
          for (const { step, repeat } of ops) {
            now += step;
            const fresh = applied.filter((a) => now - a.at < 20 * DAY);
            const old = fresh[repeat % (fresh.length + 1)];
            if (old) {
              const r = await ledger.applyEvent(old.event);
              expect(r.result?.status).toBe("duplicate");
            } else {
              const event = stageEvent({ accountId: "any", type: "stage.progress", action: "script", progress: 0.5 });
              const r = await ledger.applyEvent(event);
              expect(r.result?.status).toBe("applied");
              applied.push({ event, at: now });
            }
          }
          await redis.close();
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe("idempotency generations: a step across generations", () => {
  it("a step started in one generation and completed in the next stays completed: later events for it are ignored", async () => {
    const boundary = Math.floor(Date.now() / GEN_MS) * GEN_MS;
    let now = boundary - 1_000;
    const { ledger, redis } = await testLedger({ virtualClock: () => now });
    await ledger.putAccount("st", { plan: "free" });
    await ledger.startCycle("st", {
      cycleId: "c1",
      credits: 1000,
      start: new Date(now - 1000).toISOString(),
      end: new Date(now + 60 * 86_400_000).toISOString(),
    });
    const step = { accountId: "st", sessionId: "s", stepId: "x", action: "script" } as const;
    expect((await ledger.applyEvent(stageEvent({ ...step, type: "stage.started" }))).result?.status).toBe("applied");
    now = boundary + 1_000;
    const done = await ledger.applyEvent(stageEvent({ ...step, type: "stage.completed" }));
    expect(done.result?.charged).toBeGreaterThan(0);
    for (const later of [boundary + 2_000, boundary + 20 * 86_400_000]) {
      now = later;
      expect((await ledger.applyEvent(stageEvent({ ...step, type: "stage.started" }))).result?.status).toBe("ignored");
      const again = await ledger.applyEvent(stageEvent({ ...step, type: "stage.completed" }));
      expect(again.result).toMatchObject({ status: "ignored", charged: 0 });
    }
    expect((await ledger.balance("st")).held).toBe(0);
    await redis.close();
  });
});

describe("idempotency generations: a clock that ran ahead and came back", () => {
  it("a repeat of an event applied while the clock was in the next generation is a duplicate once it is back", async () => {
    const boundary = Math.floor(Date.now() / GEN_MS) * GEN_MS;
    let now = boundary - 60_000;
    const { ledger, redis } = await testLedger({ virtualClock: () => now });
    await ledger.putAccount("fb", { plan: "free" });
    // Progress events: no audit entry, whose trail a virtual clock may not go behind.
    const event = stageEvent({ accountId: "fb", type: "stage.progress", action: "script", progress: 0.5 });
    now = boundary + 5_000; // ahead, into the next generation
    expect((await ledger.applyEvent(event)).result?.status).toBe("applied");
    now = boundary - 30_000; // back
    expect((await ledger.applyEvent(event)).result?.status).toBe("duplicate");
    expect(await ledger.readEventRecord("fb", event.eventId)).not.toBeNull();
    expect(resultFromRecord(await ledger.readEventRecord("fb", event.eventId))).toMatchObject({ status: "applied" });
    await redis.close();
  });
});
