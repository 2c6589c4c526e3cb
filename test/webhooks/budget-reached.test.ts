import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pino } from "pino";
import { WebhookPayload, type SessionSnapshot } from "@creditmeter/shared";
import { loadConfig } from "../../server/src/config/config.js";
import { quietOutcome } from "../../server/src/ledger/outcome-fixture.test-support.js";
import { createWebhooks, type Webhooks } from "../../server/src/webhooks/index.js";
import { waitFor } from "../support/redis-server.js";
import { deployment, type Deployment } from "../realtime/harness.js";
import { startReceiver, type Receiver } from "./receiver.js";

// The ledger sets `budgetReached` on the outcome when a session's remaining first reaches 0
// (end to end: test/integration/session-budget-webhook.test.ts). This shows that such an outcome
// becomes a `session.budget_reached` delivery carrying the session snapshot, once per budget reached.
describe("session.budget_reached", () => {
  let d: Deployment;
  let webhooks: Webhooks;
  let receiver: Receiver;

  beforeAll(async () => {
    d = await deployment();
    webhooks = createWebhooks(d.redis, loadConfig(d.env), pino({ level: "silent" }));
    webhooks.startWorker();
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await webhooks.close();
    await receiver.close();
    await d.close();
  });

  it("an outcome with budgetReached is delivered as the session snapshot; the same change again is not", async () => {
    await webhooks.store.create({ url: receiver.url, events: ["session.budget_reached"] });
    const snapshot: SessionSnapshot = {
      accountId: "wh-budget",
      sessionId: "video-9",
      used: 40,
      reserved: 10,
      byStage: { research: 0, storyboard: 0, keyframes: 0, animation: 40, voiceover: 0 },
      seq: 7,
      budget: { credits: 50, remaining: 0, reachedAt: "2026-12-04T10:00:00.000Z" },
      forecast: null,
    };
    const outcome = quietOutcome("wh-budget", { budgetReached: snapshot });
    webhooks.outbox.publish(outcome);
    webhooks.outbox.publish(outcome); // the same change (same session seq) published twice
    await webhooks.outbox.flush();
    await waitFor(() => receiver.received.length >= 1, 10_000, "the delivery");
    const payload = WebhookPayload.parse(JSON.parse(receiver.received[0]?.body ?? ""));
    expect(payload).toMatchObject({ type: "session.budget_reached", data: snapshot });
    // A later, different budget event proves the worker had time to send a repeat if one existed.
    const later = { ...snapshot, seq: 8, budget: { credits: 60, remaining: 0, reachedAt: "2026-12-04T10:05:00.000Z" } };
    webhooks.outbox.publish({ ...outcome, budgetReached: later });
    await waitFor(() => receiver.received.length >= 2, 10_000, "the next budget event");
    expect(receiver.received.map((r) => r.headers["creditmeter-delivery"])).toHaveLength(2);
    expect(new Set(receiver.received.map((r) => r.headers["creditmeter-delivery"])).size).toBe(2);
  });
});
