import { describe, expect, it } from "vitest";
import type { BalanceAlert, SessionSnapshot } from "@creditmeter/shared";
import { quietOutcome } from "../ledger/outcome-fixture.test-support.js";
import { webhookEvents } from "./outbox.js";

const alert = (level: BalanceAlert["level"], at: string): BalanceAlert => ({
  accountId: "a",
  level,
  threshold: 0,
  available: 0,
  at,
});
const session: SessionSnapshot = {
  accountId: "a",
  sessionId: "s",
  used: 1,
  reserved: 0,
  byStage: { research: 0, storyboard: 0, keyframes: 0, animation: 0, voiceover: 1 },
  seq: 3,
  budget: { credits: 1, remaining: 0, reachedAt: "2026-12-05T00:00:00.000Z" },
  forecast: null,
};
const base = quietOutcome("a");

// A budget set may raise an alert of its own and still owe an earlier call's (docs/webhooks.md "The gap").
describe("webhookEvents of a change that is not a stage event", () => {
  it("queues its own alert and the owed one, each under the seq that keys it", () => {
    const events = webhookEvents({
      ...base,
      alert: alert("critical", "2026-12-05T00:00:02.000Z"),
      reraise: { alert: alert("low", "2026-12-05T00:00:01.000Z"), denied: null, budgetReached: null, seq: 7 },
    });
    expect(events.map((e) => e.key)).toEqual(["alert.critical.at.2026-12-05T00:00:02.000Z", "alert.low.seq.7"]);
  });

  it("queues every raise the account still owes (pending raises), each under its own seq", () => {
    const events = webhookEvents({
      ...base,
      owed: [
        { alert: alert("low", "2026-12-05T00:00:01.000Z"), denied: null, budgetReached: null, seq: 7 },
        { alert: alert("low", "2026-12-05T00:00:03.000Z"), denied: null, budgetReached: null, seq: 9 },
      ],
    });
    expect(events.map((e) => e.key)).toEqual(["alert.low.seq.7", "alert.low.seq.9"]);
  });

  it("queues a budget_reached once when it is both raised and owed (the same budget, the same key)", () => {
    const events = webhookEvents({
      ...base,
      budgetReached: session,
      reraise: { alert: null, denied: null, budgetReached: session, seq: 2 },
    });
    expect(events.map((e) => e.key)).toEqual(["budget.s.1.at.2026-12-05T00:00:00.000Z"]);
  });
});
