import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RedisLedger } from "../../server/src/ledger/redis-ledger.js";
import { waitFor } from "../support/redis-server.js";
import { completed, cycleOf, recorder } from "../realtime/harness.js";
import { createWebhook, deliveries } from "./helpers.js";
import { processRig, type ProcessRig } from "./process-rig.js";
import type { Receiver } from "./receiver.js";

// The gap after the ledger script for changes that are not stage events (docs/webhooks.md "The
// gap"): an ops adjustment, a budget set already used up (by the REST route or a panel's
// `session:budget`). A server SIGKILLed right after the script
// (CREDITMETER_TEST_KILL_AFTER_LEDGER=<adjustmentId | sessionId>) has queued nothing; the caller's
// retry, a repeat, raises the webhook again from the change's own record, delivered once.
describe("webhooks raised by an ops change or a budget set survive the gap", { timeout: 300_000 }, () => {
  let rig: ProcessRig;
  let ledger: RedisLedger;
  let ops = "";
  beforeAll(async () => {
    rig = await processRig();
    ({ ledger, ops } = rig);
  });
  const sockets: Array<ReturnType<typeof recorder>> = [];
  afterAll(async () => {
    for (const p of sockets) p.socket.disconnect();
    await rig.close();
  });

  /** A request whose process may die under it: the status, or null when the connection broke. */
  async function send(url: string, method: string, path: string, body: object): Promise<number | null> {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${ops}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    }).catch(() => null);
    return res?.status ?? null;
  }
  /** Waits for the webhook queue to settle, then checks that `r` got exactly `n` requests. */
  async function exactly(r: Receiver, n: number): Promise<void> {
    await waitFor(() => r.received.length >= n, 60_000, `${n} deliveries`);
    await waitFor(() => rig.settled(), 10_000, "the webhook queue settled");
    expect(r.received).toHaveLength(n);
  }

  /**
   * After a budget set's first retry: budget_reached was delivered exactly once, with the budget
   * reached at `reachedAt`, and `retryAgain` (asserting its own answer) after the finished delivery
   * job is gone delivers nothing more.
   */
  async function budgetReachedOnce(
    r: Receiver,
    at: { url: string; hookId: string; acct: string; sid: string; reachedAt: unknown },
    retryAgain: () => Promise<void>,
  ): Promise<void> {
    await exactly(r, 1);
    const delivered = JSON.parse(r.received[0]?.body ?? "{}") as { type: string; data: Record<string, unknown> };
    expect(delivered).toMatchObject({
      type: "session.budget_reached",
      data: { accountId: at.acct, sessionId: at.sid, budget: { credits: 1, remaining: 0, reachedAt: at.reachedAt } },
    });
    // Retried again after the finished delivery job (whose id dedupes) is gone: still one.
    await rig.webhookQueue.clean(0, 1000, "completed");
    await retryAgain();
    await exactly(r, 1);
    expect(await deliveries(at.url, ops, at.hookId)).toHaveLength(1);
  }

  it("SIGKILL right after an adjustment: its alert is delivered once, by the retried request", async () => {
    const r = await rig.receiver();
    const acct = "ops-gap-adj";
    await ledger.putAccount(acct, { plan: "free" });
    await ledger.startCycle(acct, cycleOf(`c-${acct}`, 10));
    const body = { adjustmentId: "adj-gap", credits: -10, reason: "chargeback" };
    const path = `/v1/accounts/${acct}/adjustments`;
    const first = await rig.start({ CREDITMETER_TEST_KILL_AFTER_LEDGER: body.adjustmentId });
    await createWebhook(first.url, ops, { url: r.url, events: ["balance.alert"], accountId: acct });
    expect(await send(first.url, "POST", path, body)).toBeNull();
    expect(await first.server.exited).toBe("SIGKILL");
    expect((await ledger.balance(acct)).available).toBe(0); // applied, then killed
    expect(await rig.settled()).toBe(true); // and nothing was queued
    expect(r.received).toHaveLength(0);

    const second = await rig.start();
    expect(await send(second.url, "POST", path, body)).toBe(200); // the client's retry: a repeat
    await exactly(r, 1);
    const delivered = JSON.parse(r.received[0]?.body ?? "{}") as { type: string; data: Record<string, unknown> };
    expect(delivered).toMatchObject({
      type: "balance.alert",
      data: { accountId: acct, level: "exhausted", available: 0 },
    });
    // Retried again, even after the finished delivery job (whose id dedupes) is gone: still one.
    expect(await send(second.url, "POST", path, body)).toBe(200);
    await rig.webhookQueue.clean(0, 1000, "completed");
    expect(await send(second.url, "POST", path, body)).toBe(200);
    await exactly(r, 1);
    await second.server.kill("SIGTERM");
  });

  it("SIGKILL right after a budget set already used up: budget_reached is delivered once, by the retried PUT", async () => {
    const r = await rig.receiver();
    const acct = "ops-gap-budget";
    const sid = "video-gap";
    await ledger.putAccount(acct, { plan: "free" });
    await ledger.startCycle(acct, cycleOf(`c-${acct}`, 100));
    await ledger.applyEvent(completed(acct, sid, "script")); // 1 credit used: a budget of 1 is reached
    const path = `/v1/accounts/${acct}/sessions/${sid}/budget`;
    const first = await rig.start({ CREDITMETER_TEST_KILL_AFTER_LEDGER: sid });
    const hook = await createWebhook(first.url, ops, {
      url: r.url,
      events: ["session.budget_reached"],
      accountId: acct,
    });
    expect(await send(first.url, "PUT", path, { credits: 1 })).toBeNull();
    expect(await first.server.exited).toBe("SIGKILL");
    const reachedAt = (await ledger.session(acct, sid)).budget?.reachedAt;
    expect(reachedAt).toBeTruthy(); // applied, then killed
    expect(await rig.settled()).toBe(true);

    const second = await rig.start();
    expect(await send(second.url, "PUT", path, { credits: 1 })).toBe(200);
    await budgetReachedOnce(r, { url: second.url, hookId: hook.id, acct, sid, reachedAt }, async () => {
      expect(await send(second.url, "PUT", path, { credits: 1 })).toBe(200);
    });
    await second.server.kill("SIGTERM");
  });

  it("SIGKILL right after a panel's session:budget already used up: budget_reached is delivered once, by the panel's retry", async () => {
    const r = await rig.receiver();
    const acct = "panel-gap-budget";
    const sid = "video-panel-gap";
    await ledger.putAccount(acct, { plan: "free" });
    await ledger.startCycle(acct, cycleOf(`c-${acct}`, 100));
    await ledger.applyEvent(completed(acct, sid, "script")); // 1 credit used: a budget of 1 is reached
    /** A user's panel of `acct` on `url`, once connected. */
    const panel = async (url: string): Promise<ReturnType<typeof recorder>> => {
      const p = recorder(url, { token: await rig.d.token(acct, "user") });
      sockets.push(p);
      await waitFor(() => p.socket.connected, 30_000, "the panel connected");
      return p;
    };
    const first = await rig.start({ CREDITMETER_TEST_KILL_AFTER_LEDGER: sid });
    const hook = await createWebhook(first.url, ops, {
      url: r.url,
      events: ["session.budget_reached"],
      accountId: acct,
    });
    (await panel(first.url)).socket.emit("session:budget", { sessionId: sid, credits: 1 });
    expect(await first.server.exited).toBe("SIGKILL");
    const reachedAt = (await ledger.session(acct, sid)).budget?.reachedAt;
    expect(reachedAt).toBeTruthy(); // applied, then killed
    expect(await rig.settled()).toBe(true); // and nothing was queued

    // The panel reconnects (to another node here) and retries the same budget.
    const second = await rig.start();
    const retry = await panel(second.url);
    const setBudget = (): Promise<unknown> =>
      retry.socket.timeout(30_000).emitWithAck("session:budget", { sessionId: sid, credits: 1 });
    expect(await setBudget()).toMatchObject({ ok: true, session: { budget: { credits: 1, remaining: 0, reachedAt } } });
    await budgetReachedOnce(r, { url: second.url, hookId: hook.id, acct, sid, reachedAt }, async () => {
      expect(await setBudget()).toMatchObject({ ok: true });
    });
    await second.server.kill("SIGTERM");
  });
});
