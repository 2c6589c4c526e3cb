import { describe, expect, it } from "vitest";
import type { OpsCharge } from "@creditmeter/shared";
import { SpendBatch, MAX_ALERTS_PER_FLUSH } from "./spend-batch.js";
import { sumSeconds } from "./stats-reader.js";

const charge = (at: string, amount: number, action: OpsCharge["action"] = "script", model: string | null = null): OpsCharge => ({
  accountId: "a",
  sessionId: "s",
  action,
  stage: "research",
  model,
  amount,
  at,
});

describe("SpendBatch", () => {
  it("sums charges by the second they were applied in, by action and model", () => {
    const b = new SpendBatch(2);
    b.charge(charge("2030-01-01T00:00:00.100Z", 1));
    b.charge(charge("2030-01-01T00:00:00.900Z", 20, "animation", "veo-3.1"));
    b.charge(charge("2030-01-01T00:00:01.000Z", 3, "image"));
    const s0 = Math.floor(Date.parse("2030-01-01T00:00:00Z") / 1000);
    expect(Object.fromEntries(b.delta.seconds.get(s0) ?? [])).toEqual({ n: 2, c: 21, "a:script": 1, "a:animation": 20, "m:none": 1, "m:veo-3.1": 20 });
    expect(b.delta.seconds.get(s0 + 1)?.get("c")).toBe(3);
    expect(b.feed().map((c) => c.amount)).toEqual([20, 3]);
    expect(b.delta.active.get("a/s")).toBe(Date.parse("2030-01-01T00:00:01.000Z"));
  });

  it("caps alerts per flush and counts the rest", () => {
    const b = new SpendBatch(1);
    for (let i = 0; i < MAX_ALERTS_PER_FLUSH + 5; i++) b.alert({ kind: "denied", accountId: "a", sessionId: "s", message: "m", at: "x" });
    expect(b.delta.alerts.length).toBe(MAX_ALERTS_PER_FLUSH);
    expect(b.droppedAlerts).toBe(5);
  });
});

describe("sumSeconds", () => {
  it("spend per minute covers ages 0..59, the rate averages whole seconds 1..10, by-action the whole window", () => {
    const hashes = Array.from({ length: 300 }, () => ({ n: "1", c: "2", "a:script": "2" }));
    const s = sumSeconds(hashes);
    expect(s.spendPerMinute).toBe(120);
    expect(s.chargesPerSecond).toBe(1);
    expect(s.byAction).toEqual({ script: 600 });
  });
});
