import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_PRICE_BOOK } from "@creditmeter/shared";
import { RedisLedger, createConsumer } from "@creditmeter/server";
import { buildWorkload } from "../support/workload.js";
import { LEDGER_DEFAULTS, cycle, stageEvent, testLedger } from "../support/ledger.js";
import { RecordingPublisher, startPipeline, type Pipeline } from "../support/pipeline.js";
import { waitFor } from "../support/redis-server.js";

// Why raw keys: "memory stays bounded under a flood" is a property of what Redis holds, not of
// any API answer. Each bound is asserted where it lives: TTLs on the idempotency generations
// (ids:<g>, holding the records and step states), holds that expire even at zero credits, the audit stream's MINID trim,
// and BullMQ's removal of finished jobs.
const RETENTION_S = 120;

describe("memory bounds (raw keys)", () => {
  let pipeline: Pipeline | null = null;
  afterEach(async () => {
    await pipeline?.close();
    pipeline = null;
  });

  // lua/lib/idem.lua: records and step states are fields of one hash per account and 15-day
  // generation, which expires at the generation's end + the retention + one hour of slack.
  const GEN_MS = 15 * 86_400_000;
  const SLACK_MS = 3_600_000;
  const bound = (retentionS: number, at: number) =>
    (Math.floor(at / GEN_MS) + 1) * GEN_MS - at + retentionS * 1000 + SLACK_MS;

  it("every idempotency record and step state expires within its generation's end + the retention", async () => {
    const { ledger, redis, namespace } = await testLedger({ idempotencyRetentionSeconds: RETENTION_S });
    await ledger.putAccount("mem", { plan: "free" });
    await ledger.startCycle("mem", cycle("c1", 100_000));
    const { events } = buildWorkload({
      accounts: ["mem"],
      sessionsPerAccount: 2,
      stepsPerSession: 30,
      plan: "free",
      seed: 3,
      tag: "mem",
    });
    const t0 = Date.now();
    for (const e of events) await ledger.applyEvent(e);
    for (const e of events) await ledger.applyEvent(e); // duplicates must not refresh into forever
    const t1 = Date.now();
    const keys: string[] = [];
    for await (const batch of redis.scanIterator({ MATCH: `${namespace}:{mem}:*`, COUNT: 1000 })) keys.push(...batch);
    // No key per event or step any more; every generation hash holds its events' records.
    expect(keys.filter((k) => /:(evt|st):/.test(k))).toEqual([]);
    const gens = keys.filter((k) => /:ids:\d+$/.test(k));
    expect(gens.length).toBeGreaterThan(0);
    let fields = 0;
    for (const key of gens) {
      fields += await redis.hLen(key);
      const ttl = await redis.pTTL(key);
      // At least the retention after its last write, at most the generation's end + the retention + slack.
      expect(ttl).toBeGreaterThan(RETENTION_S * 1000);
      expect(ttl).toBeLessThanOrEqual(bound(RETENTION_S, t0) + 1000);
      expect(ttl).toBeGreaterThanOrEqual(bound(RETENTION_S, t1) - (t1 - t0) - 1000 - (Date.now() - t1));
    }
    expect(fields).toBeGreaterThanOrEqual(events.length);
    await redis.close();
  });

  it("a session that keeps getting new steps does not keep its old steps' states alive", async () => {
    const retentionS = 2;
    const { ledger, redis, namespace } = await testLedger({ idempotencyRetentionSeconds: retentionS });
    await ledger.putAccount("grow", { plan: "free" });
    await ledger.startCycle("grow", cycle("c1", 1000));
    await ledger.applyEvent(
      stageEvent({
        accountId: "grow",
        sessionId: "long",
        stepId: "first-step",
        type: "stage.completed",
        action: "script",
      }),
    );
    const gen = async (): Promise<{ key: string; ttl: number }[]> => {
      const out: { key: string; ttl: number }[] = [];
      for await (const keys of redis.scanIterator({ MATCH: `${namespace}:{grow}:ids:*`, COUNT: 1000 })) {
        for (const key of keys) out.push({ key, ttl: await redis.pTTL(key) });
      }
      return out;
    };
    const [first] = await gen();
    expect(first).toBeDefined();
    // Later steps of the same session write into the same generation without pushing its end out:
    // the first step's state goes with it, at most the generation's end + the retention after.
    for (let i = 0; i < 20; i++) {
      await ledger.applyEvent(
        stageEvent({
          accountId: "grow",
          sessionId: "long",
          stepId: `later-${i}`,
          type: "stage.completed",
          action: "script",
        }),
      );
    }
    const after = await gen();
    expect(after.map((g) => g.key)).toEqual([first?.key]);
    expect(after[0]?.ttl).toBeLessThanOrEqual(first?.ttl ?? 0);
    expect(after[0]?.ttl).toBeLessThanOrEqual(bound(retentionS, Date.now()) + 1000);
    // No key names a step (states are fields under a hash of the step), none outlives its generation.
    for await (const keys of redis.scanIterator({ MATCH: `${namespace}:{grow}:*step*`, COUNT: 1000 }))
      expect(keys).toEqual([]);
    await redis.close();
  });

  it("a zero-credit hold of a step that never ends expires too", async () => {
    const { ledger, redis } = await testLedger({ holdTtlSeconds: 1 });
    await ledger.putAccount("zero", { plan: "plus" });
    await ledger.startCycle("zero", cycle("c1", 1000));
    // Both hold 0 credits (free research; images are free on plus); neither step ever ends.
    await ledger.applyEvent(stageEvent({ accountId: "zero", type: "stage.started", action: "web_research" }));
    await ledger.applyEvent(stageEvent({ accountId: "zero", type: "stage.started", action: "image", scenes: 4 }));
    const holds = ledger.keys("zero").holds;
    expect(await redis.hLen(holds)).toBe(2);
    await waitFor(
      async () => {
        await ledger.touch("zero");
        return (await redis.hLen(holds)) === 0;
      },
      10_000,
      "the zero-credit holds to expire",
    );
    expect(await ledger.balance("zero")).toMatchObject({ held: 0, available: 1000 });
    await redis.close();
  });

  it("the audit stream drops entries older than the ledger retention on the next write", async () => {
    const { ledger, redis, namespace } = await testLedger({ ledgerRetentionDays: 1 });
    const log = `${namespace}:{aud}:log`;
    // 500 entries from 1970: far outside the retention, in several stream nodes.
    for (let i = 1; i <= 500; i++) await redis.xAdd(log, `${i}-0`, { k: "grant", amt: "1" });
    await ledger.putAccount("aud", { plan: "free" });
    await ledger.startCycle("aud", cycle("c1", 1000));
    await ledger.applyEvent(stageEvent({ type: "stage.completed", action: "script", accountId: "aud" }));
    const old = await redis.xRange(log, "-", String(Date.now() - 86_400_000));
    // MINID "~" trims whole stream nodes (100 entries each by default): at most one node stays.
    expect(old.length).toBeLessThan(100);
    expect(await redis.xLen(log)).toBeLessThan(100 + 10);
    await redis.close();
  });

  it("completed jobs leave nothing behind in the queue", async () => {
    pipeline = await startPipeline({ concurrency: 20 });
    const { ledger, queue, redis } = pipeline;
    await ledger.putAccount("jobs", { plan: "free" });
    await ledger.startCycle("jobs", cycle("c1", 1_000_000));
    const { events } = buildWorkload({
      accounts: ["jobs"],
      sessionsPerAccount: 3,
      stepsPerSession: 40,
      plan: "free",
      seed: 5,
      tag: `jobs-${randomUUID().slice(0, 8)}`,
    });
    await queue.addBulk(events.map((e) => ({ name: e.type, data: e, opts: { jobId: e.eventId } })));
    await waitFor(
      async () => (await queue.count()) === 0 && (await queue.getJobCounts("active")).active === 0,
      20_000,
      "the queue to drain",
    );
    expect(await queue.getJobCounts("completed", "failed")).toEqual({ completed: 0, failed: 0 });
    const jobHashes = await Promise.all(
      events.slice(0, 50).map((e) => redis.exists(`${pipeline?.prefix}:${pipeline?.queueName}:${e.eventId}`)),
    );
    expect(jobHashes.every((n) => n === 0)).toBe(true);
  });

  it("failed jobs are capped at CREDITMETER_FAILED_JOBS_KEPT", async () => {
    pipeline = await startPipeline({ consumer: false });
    const { ledger, queue, redis, queueName, prefix } = pipeline;
    const kept = 10;
    const consumer = createConsumer({
      redis,
      queueName,
      queuePrefix: prefix,
      concurrency: 10,
      failedJobsKept: kept,
      ledger,
      publisher: new RecordingPublisher(),
      priceBook: DEFAULT_PRICE_BOOK,
      idempotencyRetentionSeconds: 86400,
    });
    try {
      await queue.addBulk(
        Array.from({ length: 120 }, (_, i) => ({
          name: "stage.completed",
          data: { v: 2, junk: i },
          opts: { jobId: `bad-${i}`, attempts: 1 },
        })),
      );
      await waitFor(
        async () => (await queue.count()) === 0 && (await queue.getJobCounts("active")).active === 0,
        20_000,
        "every bad job to be processed",
      );
      expect((await queue.getJobCounts("failed")).failed).toBe(kept);
      const hashes = await Promise.all(
        Array.from({ length: 120 }, (_, i) => redis.exists(`${prefix}:${queueName}:bad-${i}`)),
      );
      expect(hashes.reduce((a: number, b) => a + b, 0)).toBe(kept);
    } finally {
      await consumer.close();
    }
  });
});

describe("idempotency generations: expiry as the retention changes", () => {
  it("a longer retention lengthens the current generation's expiry; a shorter one never shortens it", async () => {
    const { ledger, redis, namespace } = await testLedger({ idempotencyRetentionSeconds: 60 });
    await ledger.putAccount("ret", { plan: "free" });
    const progress = () => stageEvent({ accountId: "ret", type: "stage.progress", action: "script", progress: 0.5 });
    const genTtl = async (): Promise<number> => {
      const keys: string[] = [];
      for await (const batch of redis.scanIterator({ MATCH: `${namespace}:{ret}:ids:*`, COUNT: 1000 }))
        keys.push(...batch);
      expect(keys).toHaveLength(1);
      return redis.pTTL(keys[0] ?? "");
    };
    await ledger.applyEvent(progress());
    const first = await genTtl();
    const withRetention = (seconds: number) =>
      new RedisLedger({ redis, namespace, ...LEDGER_DEFAULTS, idempotencyRetentionSeconds: seconds });
    // The same account, its generation already written: a process configured with a day more.
    await withRetention(60 + 86_400).applyEvent(progress());
    const longer = await genTtl();
    expect(longer).toBeGreaterThan(first + 86_000_000);
    // And one configured with less: the records written under the longer retention keep it.
    await withRetention(60).applyEvent(progress());
    expect(await genTtl()).toBeGreaterThan(longer - 60_000);
    await redis.close();
  });
});
