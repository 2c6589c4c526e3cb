import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StageReporter } from "@creditmeter/reporter";
import { startPipeline, type Pipeline } from "../support/pipeline.js";
import { cycle } from "../support/ledger.js";
import { waitFor } from "../support/redis-server.js";

// A generation worker's view, end to end: the StageReporter against the real metering consumer.
describe("StageReporter against the metering server", () => {
  let p: Pipeline;
  let reporter: StageReporter;
  const accountId = "worker-acct";

  beforeAll(async () => {
    p = await startPipeline();
    await p.ledger.putAccount(accountId, { plan: "free" });
    await p.ledger.startCycle(accountId, cycle("c1", 50));
    reporter = new StageReporter({ connection: p.redis.duplicate(), queueName: p.queueName, prefix: p.prefix, accountId, sessionId: "video-9" });
  });
  afterAll(async () => {
    await reporter.close();
    await p.close();
  });

  it("is granted, denied, retried after a pack, and charged for the actual seconds", async () => {
    const first = await reporter.started("scene-1", { action: "animation", model: "veo-3.1-fast", seconds: 4 });
    expect(first).toMatchObject({ granted: true, held: 40, available: 10 });
    const again = await reporter.started("scene-1", { action: "animation", model: "veo-3.1-fast", seconds: 4 });
    expect(again).toMatchObject({ granted: true, eventId: first.eventId });

    const denied = await reporter.started("scene-2", { action: "animation", model: "veo-3.1", seconds: 3 });
    expect(denied).toMatchObject({ granted: false, status: "denied", available: 10 });
    await p.ledger.addPack(accountId, { packId: "topup", credits: 100 });
    const retry = await reporter.started("scene-2", { action: "animation", model: "veo-3.1", seconds: 3, attempt: 2 });
    expect(retry).toMatchObject({ granted: true, held: 60, available: 50 });

    const done = await reporter.completed("scene-1", { action: "animation", model: "veo-3.1-fast", seconds: 3.4 }, { wait: true });
    expect(done).toMatchObject({ status: "applied", charged: 40, sessionUsed: 40 });
    await reporter.failed("scene-2", "animation", "model timed out");
    await waitFor(async () => (await p.ledger.balance(accountId)).held === 0, 10_000, "the failed step's hold to be released");
    expect(await p.ledger.balance(accountId)).toMatchObject({ available: 110, used: 40, held: 0 });
  });
});
