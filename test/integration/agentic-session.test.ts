import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RedisClientType } from "redis";
import type { RedisLedger } from "@creditmeter/server";
import type { StageEvent } from "@creditmeter/shared";
import { cycle, stageEvent, testLedger } from "../support/ledger.js";

// A typical Agentic Mode session on a free account with a 300-credit cycle, checked after every step.
describe("a typical agentic session", () => {
  let ledger: RedisLedger;
  let redis: RedisClientType;
  const accountId = "acct-typical";
  const sessionId = "video-1";

  beforeAll(async () => {
    ({ ledger, redis } = await testLedger());
    await ledger.putAccount(accountId, { plan: "free" });
    await ledger.startCycle(accountId, cycle("c1", 300));
  });
  afterAll(async () => {
    await redis.close();
  });

  async function step(e: Omit<StageEvent, "v" | "eventId" | "occurredAt" | "accountId" | "sessionId">, expected: { available: number; held: number; used: number; sessionUsed: number; reserved: number }) {
    const out = await ledger.applyEvent(stageEvent({ accountId, sessionId, ...e }));
    const bal = await ledger.balance(accountId);
    const ses = await ledger.session(accountId, sessionId);
    expect({ available: bal.available, held: bal.held, used: bal.used, sessionUsed: ses.used, reserved: ses.reserved }).toEqual(expected);
    expect(out.result?.available).toBe(expected.available);
    expect(out.result?.sessionUsed).toBe(expected.sessionUsed);
    return out;
  }

  it("is exact after every step", async () => {
    await step({ type: "stage.started", stepId: "research", action: "web_research" }, { available: 300, held: 0, used: 0, sessionUsed: 0, reserved: 0 });
    await step({ type: "stage.completed", stepId: "research", action: "web_research" }, { available: 300, held: 0, used: 0, sessionUsed: 0, reserved: 0 });
    await step({ type: "stage.started", stepId: "script", action: "script" }, { available: 299, held: 1, used: 0, sessionUsed: 0, reserved: 1 });
    const done = await step({ type: "stage.completed", stepId: "script", action: "script" }, { available: 299, held: 0, used: 1, sessionUsed: 1, reserved: 0 });
    expect(done.result).toMatchObject({ status: "applied", charged: 1, held: 0 });
    await step({ type: "stage.started", stepId: "brief", action: "creative_brief" }, { available: 298, held: 1, used: 1, sessionUsed: 1, reserved: 1 });
    await step({ type: "stage.completed", stepId: "brief", action: "creative_brief" }, { available: 298, held: 0, used: 2, sessionUsed: 2, reserved: 0 });
    await step({ type: "stage.started", stepId: "board", action: "storyboard" }, { available: 297, held: 1, used: 2, sessionUsed: 2, reserved: 1 });
    await step({ type: "stage.completed", stepId: "board", action: "storyboard" }, { available: 297, held: 0, used: 3, sessionUsed: 3, reserved: 0 });
    await step({ type: "stage.started", stepId: "images", action: "image", scenes: 5 }, { available: 282, held: 15, used: 3, sessionUsed: 3, reserved: 15 });
    await step({ type: "stage.completed", stepId: "images", action: "image", scenes: 5 }, { available: 282, held: 0, used: 18, sessionUsed: 18, reserved: 0 });
    let used = 18;
    for (let scene = 1; scene <= 5; scene++) {
      const stepId = `anim-${scene}`;
      await step({ type: "stage.started", stepId, action: "animation", model: "veo-3.1-fast", seconds: 4 }, { available: 300 - used - 40, held: 40, used, sessionUsed: used, reserved: 40 });
      used += 40;
      await step({ type: "stage.completed", stepId, action: "animation", model: "veo-3.1-fast", seconds: 3.2 }, { available: 300 - used, held: 0, used, sessionUsed: used, reserved: 0 });
    }
    expect(used).toBe(218);
    await step({ type: "stage.started", stepId: "vo", action: "voiceover" }, { available: 52, held: 30, used: 218, sessionUsed: 218, reserved: 30 });
    await step({ type: "stage.completed", stepId: "vo", action: "voiceover", seconds: 41.5 }, { available: 40, held: 0, used: 260, sessionUsed: 260, reserved: 0 });
    const ses = await ledger.session(accountId, sessionId);
    expect(ses.byStage).toEqual({ research: 2, storyboard: 1, keyframes: 15, animation: 200, voiceover: 42 });
    const bal = await ledger.balance(accountId);
    expect(bal.usagePercent).toBe(Math.round((100 * 260) / 300));
    expect(bal.buckets).toEqual([{ id: "c1", kind: "subscription", granted: 300, remaining: 40, expiresAt: bal.cycle?.end }]);
  });
});
