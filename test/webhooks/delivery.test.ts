import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { WebhookPayload } from "@creditmeter/shared";
import { waitFor } from "../support/redis-server.js";
import { completed, cycleOf, deployment, startNode, type Deployment } from "../realtime/harness.js";
import { startReceiver, type Receiver } from "./receiver.js";
import { createWebhook, deliveries, documentedRecipeVerifies, started } from "./helpers.js";

const BASE_MS = 300;

// Deliveries to a real HTTP receiver on loopback (CONTRACT §7): signed with the documented
// recipe, retried with growing gaps under the same id, and a slow answer is a failure.
describe("webhook deliveries", () => {
  let d: Deployment;
  let node: Awaited<ReturnType<typeof startNode>>;
  let ops = "";
  let receiver: Receiver | null = null;

  beforeAll(async () => {
    d = await deployment({ CREDITMETER_WEBHOOK_RETRY_BASE_MS: String(BASE_MS), CREDITMETER_WEBHOOK_TIMEOUT_MS: "1000" });
    node = await startNode(d);
    ops = await d.token("ops-1", "ops");
  });
  afterEach(async () => {
    await receiver?.close();
    receiver = null;
  });
  afterAll(async () => {
    await node.close();
    await d.close();
  });

  async function emptyAccount(id: string): Promise<void> {
    await node.ledger.putAccount(id, { plan: "free" });
    await node.ledger.startCycle(id, cycleOf(`c-${id}`, 0));
  }

  it("signs a stage.denied with the documented recipe; the header names the delivery", async () => {
    receiver = await startReceiver();
    const acct = "wh-sign";
    await emptyAccount(acct);
    const hook = await createWebhook(node.url, ops, { url: receiver.url, events: ["stage.denied"], accountId: acct });
    expect(hook.secret).toMatch(/^whsec_/);
    const event = started(acct);
    await d.enqueue([event]);
    await waitFor(() => receiver?.received.length === 1, 10_000, "the delivery");
    const [got] = receiver.received;
    if (!got) throw new Error("no delivery");
    const signature = String(got.headers["creditmeter-signature"]);
    expect(signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(documentedRecipeVerifies(hook.secret, signature, got.body)).toBe(true);
    expect(documentedRecipeVerifies(hook.secret, signature, got.body.replace("video-1", "video-2"))).toBe(false);
    expect(documentedRecipeVerifies(`${hook.secret}x`, signature, got.body)).toBe(false);
    const t = Number(/t=(\d+)/.exec(signature)?.[1]);
    expect(Math.abs(t - Date.now() / 1000)).toBeLessThan(60);

    const payload = WebhookPayload.parse(JSON.parse(got.body));
    expect(got.headers["creditmeter-delivery"]).toBe(payload.id);
    expect(payload.type).toBe("stage.denied");
    expect(payload.data).toMatchObject({ accountId: acct, sessionId: "video-1", stepId: event.stepId, action: "script", required: 1, available: 0, reason: "insufficient_credits" });
    await waitFor(async () => (await deliveries(node.url, ops, hook.id))[0]?.deliveredAt != null, 5000, "the delivery recorded");
    const [record] = await deliveries(node.url, ops, hook.id);
    expect(record).toMatchObject({ id: payload.id, type: "stage.denied", attempts: 1, lastStatus: 200, nextAttemptAt: null });
  });

  it("sends balance.alert to a webhook of every account; not to one of another account", async () => {
    receiver = await startReceiver();
    const other = await startReceiver();
    try {
      const acct = "wh-alert";
      await node.ledger.putAccount(acct, { plan: "free" });
      await node.ledger.startCycle(acct, cycleOf("c1", 100));
      const all = await createWebhook(node.url, ops, { url: receiver.url, events: ["balance.alert"] });
      await createWebhook(node.url, ops, { url: other.url, events: ["balance.alert"], accountId: "someone-else" });
      await d.enqueue([completed(acct, "s1", "voiceover", { seconds: 85 })]); // 15 left: past low (20)
      await waitFor(() => receiver?.received.length === 1, 10_000, "the alert");
      const payload = WebhookPayload.parse(JSON.parse(receiver.received[0]?.body ?? ""));
      expect(payload).toMatchObject({ type: "balance.alert", data: { accountId: acct, level: "low", threshold: 20, available: 15 } });
      expect(documentedRecipeVerifies(all.secret, String(receiver.received[0]?.headers["creditmeter-signature"]), receiver.received[0]?.body ?? "")).toBe(true);
      // A later delivery to the catch-all proves the scoped receiver had its chance.
      await d.enqueue([completed(acct, "s1", "voiceover", { seconds: 12 })]); // 3 left: critical
      await waitFor(() => receiver?.received.length === 2, 10_000, "the second alert");
      expect(other.received).toEqual([]);
    } finally {
      await other.close();
    }
  });

  it("retries 500, 500 then 200: three attempts, the same delivery id, growing gaps", async () => {
    receiver = await startReceiver((n) => ({ status: n < 2 ? 500 : 200 }));
    const acct = "wh-retry";
    await emptyAccount(acct);
    const hook = await createWebhook(node.url, ops, { url: receiver.url, events: ["stage.denied"], accountId: acct });
    await d.enqueue([started(acct)]);
    await waitFor(() => receiver?.received.length === 3, 20_000, "three attempts");
    const ids = receiver.received.map((r) => r.headers["creditmeter-delivery"]);
    expect(new Set(ids).size).toBe(1);
    expect(new Set(receiver.received.map((r) => JSON.parse(r.body).id)).size).toBe(1);
    const [a, b, c] = receiver.received.map((r) => r.at);
    if (a === undefined || b === undefined || c === undefined) throw new Error("three attempts expected");
    const gap1 = b - a;
    const gap2 = c - b;
    // Measured at the receiver, a gap is the scheduled one plus this machine's latency; the
    // exact factor (each gap ≥ 1.5× the one before) is proven on the schedule in backoff.test.ts.
    expect(gap1).toBeGreaterThanOrEqual(BASE_MS - 20);
    expect(gap2).toBeGreaterThan(gap1);
    expect(gap2).toBeGreaterThanOrEqual(2 * BASE_MS - 20);
    await waitFor(async () => (await deliveries(node.url, ops, hook.id))[0]?.deliveredAt != null, 5000, "recorded as delivered");
    const [record] = await deliveries(node.url, ops, hook.id);
    expect(record).toMatchObject({ id: ids[0], attempts: 3, lastStatus: 200, lastError: null, nextAttemptAt: null });
    const counts = Object.fromEntries((await node.metrics.webhookAttempts.get()).values.map((v) => [String(v.labels.result), v.value]));
    expect(counts.failed).toBeGreaterThanOrEqual(2);
    expect(counts.delivered).toBeGreaterThanOrEqual(1);
  });

  it("counts an answer later than the timeout as a failure and retries it", async () => {
    // The timeout is 1 s here (CREDITMETER_WEBHOOK_TIMEOUT_MS); the contract's 10 s is the default.
    receiver = await startReceiver((n) => (n === 0 ? { status: 200, delayMs: 2500 } : { status: 200 }));
    const acct = "wh-slow";
    await emptyAccount(acct);
    const hook = await createWebhook(node.url, ops, { url: receiver.url, events: ["stage.denied"], accountId: acct });
    await d.enqueue([started(acct)]);
    await waitFor(async () => (await deliveries(node.url, ops, hook.id))[0]?.lastError === "timeout", 10_000, "the first attempt timed out");
    const [failed] = await deliveries(node.url, ops, hook.id);
    expect(failed).toMatchObject({ attempts: 1, lastStatus: null, deliveredAt: null });
    expect(failed?.nextAttemptAt).not.toBeNull();
    await waitFor(() => receiver?.received.length === 2, 10_000, "the retry");
    await waitFor(async () => (await deliveries(node.url, ops, hook.id))[0]?.deliveredAt != null, 5000, "delivered by the retry");
    expect(receiver.received[0]?.headers["creditmeter-delivery"]).toBe(receiver.received[1]?.headers["creditmeter-delivery"]);
  });
});
