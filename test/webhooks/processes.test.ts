import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pino } from "pino";
import { loadConfig } from "../../server/src/config/config.js";
import { createWebhooks } from "../../server/src/webhooks/index.js";
import { freePort, waitFor } from "../support/redis-server.js";
import type { Deployment } from "../realtime/harness.js";
import type { Answer } from "./receiver.js";
import { createWebhook, deliveries, started } from "./helpers.js";
import { processRig, type ProcessRig } from "./process-rig.js";

// Real server processes on one Redis: each event reaches a webhook once, whichever process
// applied it, and a delivery pending when its process is SIGKILLed is made after a restart.
describe("webhooks across processes", { timeout: 300_000 }, () => {
  let rig: ProcessRig;
  let d: Deployment;
  let ops = "";
  beforeAll(async () => {
    rig = await processRig();
    ({ d, ops } = rig);
  });
  afterAll(() => rig.close());
  const start = () => rig.start();
  const receiver = (answer?: Answer, port?: number) => rig.receiver(answer, port);
  const emptyAccount = (id: string) => rig.emptyAccount(id);
  const settled = () => rig.settled();

  it("two processes: every event delivered once, not once per process", async () => {
    const [a, b] = await Promise.all([start(), start()]);
    const r = await receiver();
    const acct = "wh-two";
    await emptyAccount(acct);
    const hook = await createWebhook(a.url, ops, { url: r.url, events: ["stage.denied"], accountId: acct });
    const events = Array.from({ length: 20 }, () => started(acct, "video-two"));
    await d.enqueue(events);
    await waitFor(() => r.received.length >= events.length, 30_000, "a delivery per event");
    await waitFor(settled, 10_000, "the webhook queue settled");
    const ids = r.received.map((x) => String(x.headers["creditmeter-delivery"]));
    expect(ids).toHaveLength(events.length);
    expect(new Set(ids).size).toBe(events.length);
    const steps = r.received.map((x) => (JSON.parse(x.body) as { data: { stepId: string } }).data.stepId).sort();
    expect(steps).toEqual(events.map((e) => e.stepId).sort());
    // Both processes served the webhook's deliveries list from the same records.
    expect((await deliveries(b.url, ops, hook.id)).length).toBe(events.length);
    await Promise.all([a.server.kill("SIGTERM"), b.server.kill("SIGTERM")]);
  });

  it("the same event queued by two processes is one delivery (the delivery id is the job id)", async () => {
    const r = await receiver();
    const config = loadConfig(d.env);
    const [one, two] = [
      createWebhooks(d.redis, config, pino({ level: "silent" })),
      createWebhooks(d.redis, config, pino({ level: "silent" })),
    ];
    try {
      const hook = await one.store.create({ url: r.url, events: ["balance.alert"], accountId: "wh-same" });
      const event = {
        type: "balance.alert" as const,
        accountId: "wh-same",
        key: "alert.low.event.ev-same",
        createdAt: new Date().toISOString(),
        data: { level: "low" },
      };
      await Promise.all([one.outbox.enqueue(event), two.outbox.enqueue(event), one.outbox.enqueue(event)]);
      one.startWorker();
      two.startWorker();
      await waitFor(() => r.received.length >= 1, 10_000, "the delivery");
      await waitFor(settled, 10_000, "the webhook queue settled");
      // A repeat after the delivery (a late retry of the same change) is still the same job.
      await two.outbox.enqueue(event);
      await waitFor(settled, 10_000, "the webhook queue settled again");
      expect(r.received).toHaveLength(1);
      expect(await one.store.deliveries(hook.id)).toHaveLength(1);
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });

  it("SIGKILL mid-delivery: delivered after a restart, with the same id", async () => {
    // The first request never gets an answer: the process dies while it waits for it.
    const r = await receiver((n) => (n === 0 ? "hang" : { status: 200 }));
    const acct = "wh-kill";
    await emptyAccount(acct);
    const first = await start();
    const hook = await createWebhook(first.url, ops, { url: r.url, events: ["stage.denied"], accountId: acct });
    await d.enqueue([started(acct)]);
    await waitFor(() => r.received.length === 1, 15_000, "the first attempt in flight");
    expect(await first.server.kill("SIGKILL")).toBe("SIGKILL");
    const second = await start();
    await waitFor(() => r.received.length === 2, 30_000, "the delivery after the restart");
    expect(r.received[1]?.headers["creditmeter-delivery"]).toBe(r.received[0]?.headers["creditmeter-delivery"]);
    await waitFor(
      async () => (await deliveries(second.url, ops, hook.id))[0]?.deliveredAt != null,
      10_000,
      "recorded as delivered",
    );
    await second.server.kill("SIGTERM");
  });

  it("SIGKILL while a retry waits: the restarted process makes it", async () => {
    const port = await freePort(); // nothing listens yet: the first attempt is refused
    const acct = "wh-kill-wait";
    await emptyAccount(acct);
    const first = await start();
    const hook = await createWebhook(first.url, ops, {
      url: `http://127.0.0.1:${port}/hook`,
      events: ["stage.denied"],
      accountId: acct,
    });
    await d.enqueue([started(acct)]);
    await waitFor(
      async () => ((await deliveries(first.url, ops, hook.id))[0]?.attempts ?? 0) >= 1,
      15_000,
      "a refused attempt",
    );
    expect(await first.server.kill("SIGKILL")).toBe("SIGKILL");
    const r = await receiver(undefined, port);
    const second = await start();
    await waitFor(() => r.received.length >= 1, 30_000, "the delivery after the restart");
    const [record] = await deliveries(second.url, ops, hook.id);
    await waitFor(
      async () => (await deliveries(second.url, ops, hook.id))[0]?.deliveredAt != null,
      10_000,
      "recorded as delivered",
    );
    expect(record?.id).toBe(r.received[0]?.headers["creditmeter-delivery"]);
    await second.server.kill("SIGTERM");
  });
});
