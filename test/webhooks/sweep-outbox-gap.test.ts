import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RedisLedger } from "../../server/src/ledger/redis-ledger.js";
import { waitFor } from "../support/redis-server.js";
import { createWebhook } from "./helpers.js";
import { processRig, type ProcessRig } from "./process-rig.js";

// The gap after the ledger script for the sweeper's time-due work (docs/webhooks.md "The gap"): a
// server SIGKILLed right after the sweeper's touch applied a cycle end
// (CREDITMETER_TEST_KILL_AFTER_LEDGER=sweep:<accountId>) has queued nothing and not moved the
// account's index entry; the next sweep (another process) answers the alert the touch kept, once.
describe("an alert raised by the sweeper survives the gap", { timeout: 300_000 }, () => {
  let rig: ProcessRig;
  let ledger: RedisLedger;
  let ops = "";
  beforeAll(async () => {
    rig = await processRig();
    ({ ledger, ops } = rig);
  });
  afterAll(() => rig.close());

  it("SIGKILL right after the sweeper applied a cycle end: the alert is delivered once, by the next sweep", async () => {
    const r = await rig.receiver();
    const acct = "sweep-gap";
    const first = await rig.start({ CREDITMETER_TEST_KILL_AFTER_LEDGER: `sweep:${acct}` });
    await createWebhook(first.url, ops, { url: r.url, events: ["balance.alert"], accountId: acct });
    await ledger.putAccount(acct, { plan: "free" });
    // 10 credits whose cycle ends in 2 s: its end takes them all (exhausted), found by the sweeper.
    const now = Date.now();
    await ledger.startCycle(acct, {
      cycleId: `c-${acct}`,
      credits: 10,
      start: new Date(now - 3_600_000).toISOString(),
      end: new Date(now + 2000).toISOString(),
    });
    expect(await first.server.exited).toBe("SIGKILL");
    expect(await rig.d.redis.hGet(ledger.keys(acct).account, "sub_rem")).toBe("0"); // applied, then killed
    expect(await rig.settled()).toBe(true); // and nothing was queued
    expect(r.received).toHaveLength(0);

    const second = await rig.start();
    await waitFor(() => r.received.length >= 1, 60_000, "the alert delivered by the next sweep");
    await waitFor(() => rig.settled(), 10_000, "the webhook queue settled");
    const delivered = JSON.parse(r.received[0]?.body ?? "{}") as { type: string; data: Record<string, unknown> };
    expect(delivered).toMatchObject({
      type: "balance.alert",
      data: { accountId: acct, level: "exhausted", available: 0 },
    });
    // Marked queued: later touches (a sweep, a read) owe nothing, even once the finished delivery
    // job (whose id would dedupe a repeat) is gone.
    await rig.webhookQueue.clean(0, 1000, "completed");
    expect((await ledger.touch(acct)).raisedRecord ?? null).toBeNull();
    const read = await fetch(`${second.url}/v1/accounts/${acct}/balance`, {
      headers: { authorization: `Bearer ${ops}` },
    });
    expect(read.status).toBe(200);
    await waitFor(() => rig.settled(), 10_000, "the webhook queue settled again");
    expect(r.received).toHaveLength(1);
    await second.server.kill("SIGTERM");
  });
});
