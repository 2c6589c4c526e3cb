import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StageEvent } from "@creditmeter/shared";
import type { RedisLedger } from "../../server/src/ledger/redis-ledger.js";
import { resultFromRecord, webhooksQueued } from "../../server/src/ledger/event-record.js";
import { waitFor } from "../support/redis-server.js";
import { completed, cycleOf, startNode, type Deployment } from "../realtime/harness.js";
import { createWebhook, deliveries, started } from "./helpers.js";
import { processRig, type ProcessRig } from "./process-rig.js";

// The gap between the ledger script and the webhook outbox (docs/webhooks.md "The gap"): a
// process killed after the script applied an event but before the delivery was queued, or an
// event whose first application raised a webhook that never got queued, must still deliver it,
// once — the redelivered job is a `duplicate` and re-raises what its first application raised.
describe("webhooks raised by an event survive the gap after the ledger script", { timeout: 300_000 }, () => {
  let rig: ProcessRig;
  let d: Deployment;
  let ledger: RedisLedger;
  let ops = "";
  beforeAll(async () => {
    rig = await processRig();
    ({ d, ledger, ops } = rig);
  });
  afterAll(() => rig.close());
  const spawn = (extra?: Record<string, string>) => rig.start(extra);
  const receiver = () => rig.receiver();
  const settled = () => rig.settled();
  const record = (e: StageEvent) => ledger.readEventRecord(e.accountId, e.eventId);
  /** Adds `event` as a job again and waits until it has completed (completed jobs are removed). */
  async function redeliver(e: StageEvent): Promise<void> {
    await d.enqueue([e]);
    await waitFor(
      async () => (await d.queue.getJob(e.eventId)) === undefined,
      30_000,
      `the job of ${e.eventId} completed`,
    );
  }

  it("SIGKILL right after the ledger script: the denial's webhook is delivered once after a restart", async () => {
    const r = await receiver();
    const acct = "gap-kill";
    await rig.emptyAccount(acct);
    const event = started(acct, "video-kill");
    // The test hook: this process SIGKILLs itself as soon as the ledger has applied `event`.
    const first = await spawn({ CREDITMETER_TEST_KILL_AFTER_LEDGER: event.eventId });
    const hook = await createWebhook(first.url, ops, { url: r.url, events: ["stage.denied"], accountId: acct });
    await d.enqueue([event]);
    expect(await first.server.exited).toBe("SIGKILL");
    expect(resultFromRecord(await record(event))).toMatchObject({ status: "denied" }); // applied, then killed
    expect(await settled()).toBe(true); // and nothing was queued

    const second = await spawn();
    await waitFor(() => r.received.length >= 1, 60_000, "the denial delivered after the restart");
    await waitFor(async () => (await d.queue.getJob(event.eventId)) === undefined, 30_000, "the event's job completed");
    await waitFor(settled, 10_000, "the webhook queue settled");
    const body = JSON.parse(r.received[0]?.body ?? "{}") as { type: string; data: Record<string, unknown> };
    expect(body).toMatchObject({
      type: "stage.denied",
      data: { accountId: acct, stepId: event.stepId, reason: "insufficient_credits", required: 1, available: 0 },
    });
    // Redelivered once more (a worker repeating its call): still one delivery.
    await redeliver(event);
    await waitFor(settled, 10_000, "the webhook queue settled again");
    expect(r.received).toHaveLength(1);
    expect(await deliveries(second.url, ops, hook.id)).toHaveLength(1);
    await second.server.kill("SIGTERM");
  });

  it("a redelivery answered `duplicate` re-raises the alert its first application raised, once", async () => {
    const r = await receiver();
    const node = await startNode(d);
    try {
      const acct = "gap-dup";
      await ledger.putAccount(acct, { plan: "free" });
      await ledger.startCycle(acct, cycleOf(`c-${acct}`, 1));
      await createWebhook(node.url, ops, { url: r.url, events: ["balance.alert"], accountId: acct });
      // The first application happens outside any consumer (its outbox enqueue is lost): 1 → 0 credits.
      const event = completed(acct, "video-dup", "script");
      const first = await ledger.applyEvent(event);
      expect(first.alert).toMatchObject({ level: "exhausted" });
      await redeliver(event);
      await waitFor(() => r.received.length >= 1, 30_000, "the alert delivered from the duplicate");
      const body = JSON.parse(r.received[0]?.body ?? "{}") as {
        type: string;
        createdAt: string;
        data: Record<string, unknown>;
      };
      // The payload is the first application's: its level, threshold, balance and time.
      expect(body).toMatchObject({ type: "balance.alert", createdAt: first.alert?.at, data: { ...first.alert } });
      // Queued, then marked in the event's record: later duplicates owe nothing…
      expect(webhooksQueued(await ledger.readEventRecord(acct, event.eventId))).toBe(true);
      expect((await ledger.applyEvent(event)).reraise).toBeNull();
      // …even once the finished delivery job (whose id would dedupe a repeat) has been removed.
      await waitFor(settled, 10_000, "the webhook queue settled");
      await rig.webhookQueue.clean(0, 1000, "completed");
      await redeliver(event);
      await redeliver(event);
      await waitFor(settled, 10_000, "the webhook queue settled again");
      expect(r.received).toHaveLength(1);
    } finally {
      await node.close();
    }
  });
});
