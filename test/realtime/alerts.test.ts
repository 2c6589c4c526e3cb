import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Balance, BalanceAlert, SessionUpdate, StageDenied } from "@creditmeter/shared";
import { createCreditMeter } from "@creditmeter/panel/sdk";
import { waitFor } from "../support/redis-server.js";
import { completed, cycleOf, deployment, startNode, type Deployment } from "./harness.js";

// Low-balance alerts over two consuming nodes: once per crossing, in order, re-armed by a pack,
// and a dismissal that a reconnecting panel still sees.
describe("low-balance alerts across two nodes", () => {
  let d: Deployment;
  let nodeA: Awaited<ReturnType<typeof startNode>>;
  let nodeB: Awaited<ReturnType<typeof startNode>>;
  const acct = "acct-alerts";

  beforeAll(async () => {
    d = await deployment();
    [nodeA, nodeB] = await Promise.all([startNode(d), startNode(d)]);
    await nodeA.ledger.putAccount(acct, { plan: "free" });
    await nodeA.ledger.startCycle(acct, cycleOf("c1", 100));
  });
  afterAll(async () => {
    await Promise.all([nodeA.close(), nodeB.close()]);
    await d.close();
  });

  it("raises exactly one alert per level, in order; a pack re-arms; a dismissal survives reconnect", async () => {
    const meter = createCreditMeter({ url: nodeB.url, token: () => d.token(acct) });
    const alerts: BalanceAlert[] = [];
    meter.onAlert((a) => alerts.push(a));
    try {
      await waitFor(() => meter.balance?.available === 100, 5000, "first balance");
      const charge = async (seconds: number, expectAvailable: number, duplicate = false) => {
        const event = completed(acct, "s1", "voiceover", { seconds });
        await d.enqueue([event]);
        await waitFor(() => meter.balance?.available === expectAvailable, 5000, `available ${expectAvailable}`);
        // The same event again (a redelivery after a crash): a duplicate, no second alert.
        if (duplicate) await d.enqueue([event]);
      };
      await charge(10, 90);
      await charge(75, 15, true); // past 20 % (20 credits)
      await charge(12, 3, true); // past 5 % (5 credits)
      await charge(5, 0, true); // to 0 (2 credits of overdraft)
      await charge(1, 0); // already exhausted: no new crossing
      await waitFor(async () => {
        const counts = await d.queue.getJobCounts("waiting", "active", "delayed");
        return (counts.waiting ?? 0) + (counts.active ?? 0) + (counts.delayed ?? 0) === 0;
      }, 5000, "duplicates processed");
      expect(alerts.map((a) => a.level)).toEqual(["low", "critical", "exhausted"]);

      // A pack lifts available above every threshold again (after repaying the overdraft).
      // Bought through the ops API on node A (which publishes the change), seen by the panel on B.
      const res = await fetch(`${nodeA.url}/v1/accounts/${acct}/packs`, {
        method: "POST",
        headers: { authorization: `Bearer ${await d.token("ops-1", "ops")}`, "content-type": "application/json" },
        body: JSON.stringify({ packId: "p1", credits: 100 }),
      });
      expect(res.status).toBe(200);
      const rearmed = (await nodeA.ledger.balance(acct)).available;
      expect(rearmed).toBe(97);
      await waitFor(() => meter.balance?.available === rearmed, 5000, "pack on the panel");
      const low = (await nodeA.ledger.balance(acct)).alert;
      expect(low).toBeNull();
      // used 103 + available 97 = 200: low at 40 credits.
      await charge(60, 37);
      await waitFor(() => alerts.length >= 4, 5000, "re-armed alert");
      expect(alerts.map((a) => a.level)).toEqual(["low", "critical", "exhausted", "low"]);

      await meter.dismissAlert("low");
      await waitFor(() => meter.balance?.alert?.dismissed === true, 5000, "dismissed on the panel");
    } finally {
      meter.close();
    }

    // A new panel (a reload, a reconnect to the other node) gets a snapshot with the alert dismissed.
    const again = createCreditMeter({ url: nodeA.url, token: () => d.token(acct) });
    const first: Balance[] = [];
    again.onBalance((b) => first.push(b));
    try {
      await waitFor(() => first.length > 0, 5000, "snapshot on reconnect");
      expect(first[0]?.alert).toMatchObject({ level: "low", dismissed: true });
      expect(alerts).toHaveLength(4);
    } finally {
      again.close();
    }
  });

  it("tells a watching panel why a start was denied: stage:denied carries its reason", async () => {
    const poor = "acct-denied";
    await nodeA.ledger.putAccount(poor, { plan: "free" }); // no cycle: nothing available
    const meter = createCreditMeter({ url: nodeB.url, token: () => d.token(poor) });
    const denials: StageDenied[] = [];
    const updates: SessionUpdate[] = [];
    meter.onDenied((x) => denials.push(x));
    try {
      meter.watchSession("s-denied", (u) => updates.push(u));
      await waitFor(() => updates.length > 0, 5000, "the watch acknowledged");
      const start = completed(poor, "s-denied", "voiceover", { type: "stage.started", seconds: 10 });
      await d.enqueue([start]);
      await waitFor(() => denials.length > 0, 5000, "stage:denied on the panel");
      expect(denials[0]).toMatchObject({ accountId: poor, sessionId: "s-denied", stepId: start.stepId, available: 0, reason: "insufficient_credits" });
    } finally {
      meter.close();
    }
  });
});
