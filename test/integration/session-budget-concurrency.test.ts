import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Worker } from "bullmq";
import type { RedisClientType } from "redis";
import { DEFAULT_PRICE_BOOK, type EventResult, type StageEvent } from "@creditmeter/shared";
import { createConsumer } from "@creditmeter/server";
import { RecordingPublisher, startPipeline, type Pipeline } from "../support/pipeline.js";
import { cycle, stageEvent, testLedger } from "../support/ledger.js";
import { enqueueEvents, isDrained } from "../support/queue.js";
import { prng, shuffle } from "../support/workload.js";
import { waitFor } from "../support/redis-server.js";

const BUDGET = 500;
const STEPS = 150;

// Many steps of one session at once, taken by two consumers (each with its own ledger connection
// and concurrency 25, so events race in separate batches): the budget is checked in the hold's own
// script, so the holds together never pass it; only completions beyond their holds can.
describe("a session budget under concurrency", () => {
  let p: Pipeline;
  let second: { consumer: Worker<unknown, EventResult>; redis: RedisClientType; publisher: RecordingPublisher };

  beforeAll(async () => {
    p = await startPipeline({ concurrency: 25 });
    const { ledger, redis } = await testLedger({ namespace: p.namespace });
    const publisher = new RecordingPublisher();
    const consumer = createConsumer({
      redis,
      queueName: p.queueName,
      queuePrefix: p.prefix,
      concurrency: 25,
      failedJobsKept: 1000,
      ledger,
      publisher,
      priceBook: DEFAULT_PRICE_BOOK,
      idempotencyRetentionSeconds: 30 * 86400,
    });
    second = { consumer, redis, publisher };
  });
  afterAll(async () => {
    await second.consumer.close();
    await second.redis.close();
    await p.close();
  });

  const outcomes = () => [...p.publisher.outcomes, ...second.publisher.outcomes];

  it("grants holds up to the budget and no further, then charges every completion in full", async () => {
    const acct = "budget-race";
    await p.ledger.putAccount(acct, { plan: "free" });
    await p.ledger.startCycle(acct, cycle("c1", 1_000_000));
    await p.ledger.setBudget(acct, "video", BUDGET);
    const rand = prng(11);
    // Holds of 1, 20, 30 and 30 credits (script, talking_head 2 s, voiceover's reservation, animation 3 s).
    type Kind = Pick<StageEvent, "action" | "model" | "seconds">;
    const kinds: [Kind, ...Kind[]] = [
      { action: "script" },
      { action: "talking_head", seconds: 2 },
      { action: "voiceover" },
      { action: "animation", model: "veo-3.1-fast", seconds: 3 },
    ];
    const starts = Array.from({ length: STEPS }, (_, i) =>
      stageEvent({
        accountId: acct,
        sessionId: "video",
        type: "stage.started",
        stepId: `st-${i}`,
        ...(kinds[i % kinds.length] ?? kinds[0]),
      }),
    );
    await enqueueEvents(p.queue, shuffle(starts, rand));
    await waitFor(() => isDrained(p.queue), 120_000, "the starts to drain");

    // Both consumers took part.
    expect(p.publisher.outcomes.length).toBeGreaterThan(0);
    expect(second.publisher.outcomes.length).toBeGreaterThan(0);
    const results = new Map(outcomes().flatMap((o) => (o.eventId && o.result ? [[o.eventId, o.result] as const] : [])));
    const granted = starts.filter((e) => results.get(e.eventId)?.decision === "granted");
    const denied = starts.filter((e) => results.get(e.eventId)?.decision === "denied");
    expect(granted.length + denied.length).toBe(STEPS);
    const held = granted.reduce((s, e) => s + (results.get(e.eventId)?.held ?? 0), 0);
    const session = await p.ledger.session(acct, "video");
    expect(session).toMatchObject({ used: 0, reserved: held });
    expect(held).toBeLessThanOrEqual(BUDGET);
    // No denial was spurious: each asked for more than even the final reservation left over.
    expect(denied.length).toBeGreaterThan(0);
    for (const e of denied) {
      expect(results.get(e.eventId)?.denyReason).toBe("session_budget");
      const quote = e.action === "script" ? 1 : e.action === "talking_head" ? 20 : 30;
      expect(quote).toBeGreaterThan(BUDGET - held);
    }
    // Every snapshot pushed along the way kept used + reserved within the budget.
    const pushed = outcomes()
      .flatMap((o) => o.sessions)
      .filter((s) => s.accountId === acct && s.sessionId === "video");
    expect(pushed.length).toBeGreaterThan(0);
    for (const s of pushed) expect(s.used + s.reserved).toBeLessThanOrEqual(BUDGET);
    const reachedBefore = outcomes().filter((o) => o.budgetReached).length;
    expect(reachedBefore).toBe(held === BUDGET ? 1 : 0);

    // Completions are never refused: most cost more than their holds (talking_head 3 s = 30,
    // voiceover 35 s = 35, animation 3.5 s = 40), and three denied steps complete too (work done is charged).
    const actual = (e: StageEvent): Partial<StageEvent> =>
      e.action === "talking_head"
        ? { seconds: 3 }
        : e.action === "voiceover"
          ? { seconds: 35 }
          : e.action === "animation"
            ? { seconds: 3.5 }
            : {};
    const completions = [...granted, ...denied.slice(0, 3)].map((e) =>
      stageEvent({
        ...e,
        ...actual(e),
        type: "stage.completed",
        eventId: `${e.eventId}-done`,
        occurredAt: new Date().toISOString(),
      }),
    );
    await enqueueEvents(p.queue, shuffle(completions, rand));
    await waitFor(() => isDrained(p.queue), 120_000, "the completions to drain");
    expect(await p.queue.getJobCounts("failed")).toEqual({ failed: 0 });
    const charged = completions.reduce((s, e) => s + (outcomesOf(e.eventId)?.charged ?? 0), 0);
    const after = await p.ledger.session(acct, "video");
    expect(after).toMatchObject({
      used: charged,
      reserved: 0,
      budget: { credits: BUDGET, remaining: 0, reachedAt: expect.any(String) },
    });
    expect(charged).toBeGreaterThan(BUDGET);
    // The budget was reached once, whichever event did it.
    expect(outcomes().filter((o) => o.budgetReached)).toHaveLength(1);
  });

  function outcomesOf(eventId: string): EventResult | null {
    return outcomes().find((o) => o.eventId === eventId)?.result ?? null;
  }
});
