import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RedisLedger } from "../../server/src/ledger/redis-ledger.js";
import { waitFor } from "../support/redis-server.js";
import { recorder, type Recorder } from "../realtime/harness.js";
import { watchOps, type OpsWatcher } from "../ops/ops-client.js";
import { createWebhook } from "./helpers.js";
import { processRig, type ProcessRig } from "./process-rig.js";
import type { Receiver } from "./receiver.js";

// The gap after the ledger script for time-due work found by a plan set or an alert dismissal
// (docs/webhooks.md "The gap"): a server SIGKILLed right after the script
// (CREDITMETER_TEST_KILL_AFTER_LEDGER=plan:<sessionId> | dismiss:<accountId>) has queued nothing;
// the client's retry answers the alert the script kept as owed, delivered once. The servers sweep
// once an hour, so the route, not the sweeper, is what finds the cycle's end.
const SLOW_SWEEP = { CREDITMETER_SWEEP_INTERVAL_MS: "3600000" };
// How long after the start call a test's cycle ends. The start script must find the cycle live
// (cycleEnds asserts it from the script's answer); a loaded CI machine can take seconds on the call.
const CYCLE_MARGIN_MS = 5_000;

describe(
  "an alert raised by a plan set's or a dismissal's time-due work survives the gap",
  { timeout: 300_000 },
  () => {
    let rig: ProcessRig;
    let ledger: RedisLedger;
    let ops = "";
    const sockets: Recorder[] = [];
    const closers: OpsWatcher[] = [];
    beforeAll(async () => {
      rig = await processRig();
      ({ ledger, ops } = rig);
    });
    afterAll(async () => {
      for (const r of sockets) r.socket.disconnect();
      for (const w of closers) w.close();
      await rig.close();
    });

    /**
     * Gives `acct` (created already) 10 credits whose cycle ends CYCLE_MARGIN_MS after the start call
     * is made, checks that the start script found the cycle live, and waits (polling) for its end.
     */
    async function cycleEnds(acct: string): Promise<void> {
      const calledAt = Date.now();
      const end = calledAt + CYCLE_MARGIN_MS;
      const started = await ledger.startCycle(acct, {
        cycleId: `c-${acct}`,
        credits: 10,
        start: new Date(end - 3_600_000).toISOString(),
        end: new Date(end).toISOString(),
      });
      // The precondition, read from the start script's own answer rather than from the clock: had the
      // call taken longer than the margin, the start would have ended the cycle itself and kept the
      // alert in the grant's record, and the route under test would owe nothing.
      expect(
        { available: started.balance.available, alert: started.alert },
        `precondition: the start call took ${Date.now() - calledAt} ms, longer than the ${CYCLE_MARGIN_MS} ms ` +
          "margin, so the start script (not the route) ended the cycle; this is not the route's fault",
      ).toEqual({ available: 10, alert: null });
      await waitFor(() => Date.now() > end + 50, CYCLE_MARGIN_MS + 10_000, "the cycle's end");
    }

    /** Waits for the webhook queue to settle, then checks that `r` got exactly one exhausted alert. */
    async function deliveredOnce(r: Receiver, acct: string): Promise<void> {
      await waitFor(() => r.received.length >= 1, 60_000, "the alert delivered");
      await waitFor(() => rig.settled(), 10_000, "the webhook queue settled");
      expect(r.received).toHaveLength(1);
      const delivered = JSON.parse(r.received[0]?.body ?? "{}") as { type: string; data: Record<string, unknown> };
      expect(delivered).toMatchObject({
        type: "balance.alert",
        data: { accountId: acct, level: "exhausted", available: 0 },
      });
    }

    /** A panel of `acct` on `url`, once it has its first balance (read before the cycle ends). */
    async function panel(url: string, acct: string): Promise<Recorder> {
      const p = recorder(url, { token: await rig.d.token(acct, "user") });
      sockets.push(p);
      await waitFor(() => p.packets.some((x) => x.event === "balance:update"), 30_000, "the panel's first balance");
      return p;
    }

    it("SIGKILL right after a plan set's script ended a cycle: the alert is delivered once, by the retried PUT", async () => {
      const r = await rig.receiver();
      const acct = "plan-gap";
      const sid = "video-plan-gap";
      const path = `/v1/accounts/${acct}/sessions/${sid}/plan`;
      const body = JSON.stringify({ items: [{ action: "script", count: 1 }] });
      const put = (url: string): Promise<number | null> =>
        fetch(`${url}${path}`, {
          method: "PUT",
          headers: { authorization: `Bearer ${ops}`, "content-type": "application/json" },
          body,
        }).then(
          (res) => res.status,
          () => null,
        );
      await ledger.putAccount(acct, { plan: "free" });
      const first = await rig.start({ ...SLOW_SWEEP, CREDITMETER_TEST_KILL_AFTER_LEDGER: `plan:${sid}` });
      await createWebhook(first.url, ops, { url: r.url, events: ["balance.alert"], accountId: acct });
      await cycleEnds(acct);
      expect(await put(first.url)).toBeNull();
      expect(await first.server.exited).toBe("SIGKILL");
      expect(await rig.d.redis.hGet(ledger.keys(acct).account, "sub_rem")).toBe("0"); // applied, then killed
      expect(await rig.settled()).toBe(true); // and nothing was queued
      expect(r.received).toHaveLength(0);

      const second = await rig.start(SLOW_SWEEP);
      expect(await put(second.url)).toBe(200); // the client's retry owes the kept alert
      await deliveredOnce(r, acct);
      // Retried again after the finished delivery job (whose id dedupes) is gone: still one.
      await rig.webhookQueue.clean(0, 1000, "completed");
      expect(await put(second.url)).toBe(200);
      await waitFor(() => rig.settled(), 10_000, "the webhook queue settled again");
      expect(r.received).toHaveLength(1);
      await second.server.kill("SIGTERM");
    });

    it("SIGKILL right after a dismissal's script ended a cycle: the alert is delivered once, by the retried dismissal", async () => {
      const r = await rig.receiver();
      const acct = "dismiss-gap";
      await ledger.putAccount(acct, { plan: "free" });
      const first = await rig.start({ ...SLOW_SWEEP, CREDITMETER_TEST_KILL_AFTER_LEDGER: `dismiss:${acct}` });
      await createWebhook(first.url, ops, { url: r.url, events: ["balance.alert"], accountId: acct });
      const killed = await panel(first.url, acct);
      await cycleEnds(acct);
      killed.socket.emit("alert:dismiss", { level: "low" });
      expect(await first.server.exited).toBe("SIGKILL");
      expect(await rig.d.redis.hGet(ledger.keys(acct).account, "sub_rem")).toBe("0"); // applied, then killed
      expect(await rig.settled()).toBe(true);
      expect(r.received).toHaveLength(0);

      // The panel reconnects: its first balance read may already owe the kept alert and queue it in
      // the background (a read's way); the dismissal's retry owes it until marked. Either way, once.
      const second = await rig.start(SLOW_SWEEP);
      const retry = await panel(second.url, acct);
      const dismiss = (): Promise<unknown> =>
        retry.socket.timeout(30_000).emitWithAck("alert:dismiss", { level: "low" });
      expect(await dismiss()).toEqual({ ok: true }); // acked once the owed alert is queued
      await deliveredOnce(r, acct);
      await rig.webhookQueue.clean(0, 1000, "completed");
      expect(await dismiss()).toEqual({ ok: true });
      await waitFor(() => rig.settled(), 10_000, "the webhook queue settled again");
      expect(r.received).toHaveLength(1);
      await second.server.kill("SIGTERM");
    });

    it("a dismissal whose time-due work crossed a threshold sends the panels its balance:alert, and /ops its alert", async () => {
      const acct = "dismiss-push";
      await ledger.putAccount(acct, { plan: "free" });
      const node = await rig.start(SLOW_SWEEP);
      const p = await panel(node.url, acct);
      // The ops dashboard hears it as it hears a plan set's (the server's publisher, not the sockets' alone).
      const dashboard = watchOps(node.url, await rig.d.token("ops-1", "ops"));
      closers.push(dashboard);
      await dashboard.connected;
      await cycleEnds(acct);
      expect(await p.socket.timeout(30_000).emitWithAck("alert:dismiss", { level: "low" })).toEqual({ ok: true });
      await waitFor(() => p.packets.some((x) => x.event === "balance:alert"), 10_000, "the balance:alert");
      const alert = p.packets.find((x) => x.event === "balance:alert")?.args[0];
      expect(alert).toMatchObject({ accountId: acct, level: "exhausted", available: 0 });
      await waitFor(() => dashboard.alerts.some((a) => a.accountId === acct), 10_000, "the /ops alert");
      expect(dashboard.alerts.filter((a) => a.accountId === acct)).toEqual([
        expect.objectContaining({
          kind: "low_balance",
          accountId: acct,
          message: expect.stringMatching(/^exhausted: 0 credits/),
        }),
      ]);
      await node.server.kill("SIGTERM");
    });
  },
);
