import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildWorkload, prng, shuffle } from "../support/workload.js";
import { startPipeline, type Pipeline } from "../support/pipeline.js";
import { waitFor } from "../support/redis-server.js";
import { cycle } from "../support/ledger.js";
import { enqueueEvents, isDrained } from "../support/queue.js";

async function drain(p: Pipeline, timeoutMs: number): Promise<void> {
  await waitFor(
    () => isDrained(p.queue),
    timeoutMs,
    "the queue to drain",
  );
}

// Thousands of shuffled (and partly redelivered) events, concurrency 50, against a plain model.
describe("concurrent delivery", () => {
  let p: Pipeline;
  beforeAll(async () => {
    p = await startPipeline({ concurrency: 50 });
  });
  afterAll(() => p.close());

  it("ends exactly where the reference model does, with no hold left open", async () => {
    const accounts = Array.from({ length: 12 }, (_, i) => `conc-${i}`);
    for (const a of accounts) {
      await p.ledger.putAccount(a, { plan: "free" });
      await p.ledger.startCycle(a, cycle(`c-${a}`, 1_000_000));
    }
    const { events, expected } = buildWorkload({ accounts, sessionsPerAccount: 4, stepsPerSession: 30, plan: "free", seed: 7, tag: "cc" });
    const rand = prng(99);
    const shuffled = shuffle(events, rand);
    const redelivered = shuffle(events.filter(() => rand() < 0.2), rand);
    expect(shuffled.length).toBeGreaterThan(2500);
    await enqueueEvents(p.queue, shuffled);
    await drain(p, 120_000);
    // BullMQ removed the completed jobs, so the same ids go through again: the ledger must dedupe.
    await enqueueEvents(p.queue, redelivered);
    await drain(p, 60_000);
    expect(await p.queue.getJobCounts("failed")).toEqual({ failed: 0 });

    for (const [accountId, exp] of expected) {
      const bal = await p.ledger.balance(accountId);
      expect(bal, accountId).toMatchObject({ held: 0, used: exp.charged, available: 1_000_000 - exp.charged, overdraft: 0 });
      for (const [sessionId, ses] of exp.sessions) {
        const got = await p.ledger.session(accountId, sessionId);
        expect(got, `${accountId}/${sessionId}`).toMatchObject({ used: ses.used, reserved: 0, byStage: ses.byStage });
      }
    }
  });

  it("keeps the invariants when credits are scarce: conserved, never negative, every completion charged", async () => {
    const accounts = ["scarce-0", "scarce-1", "scarce-2"];
    for (const a of accounts) {
      await p.ledger.putAccount(a, { plan: "free" });
      await p.ledger.startCycle(a, cycle(`c-${a}`, 300));
    }
    const { events, expected } = buildWorkload({ accounts, sessionsPerAccount: 3, stepsPerSession: 20, plan: "free", seed: 3, tag: "sc" });
    await enqueueEvents(p.queue, shuffle(events, prng(5)));
    await drain(p, 60_000);
    for (const [accountId, exp] of expected) {
      const bal = await p.ledger.balance(accountId);
      const remaining = bal.buckets.reduce((s, b) => s + b.remaining, 0);
      expect(bal.held).toBe(0);
      expect(bal.available).toBeGreaterThanOrEqual(0);
      expect(bal.used).toBe(exp.charged);
      // granted + overdraft owed = remaining + charged
      expect(300 + bal.overdraft).toBe(remaining + exp.charged);
    }
  });
});
