// A job that fails after the ledger applied its event (its webhooks could not be queued through
// every attempt, say) must not be answered "failed" over HTTP: the worker would send the work
// again under a new eventId and be charged twice. Real Redis, BullMQ and the HTTP server; the
// consumer is a real BullMQ worker that applies the event to the real ledger, then throws.
import { Worker, createNodeRedisClient } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventStatus, StageEventSchema } from "@creditmeter/shared";
import { loadConfig } from "../../server/src/config/config.js";
import { completed, cycleOf, deployment, startNode, type Deployment } from "../realtime/harness.js";
import { request } from "./http-client.js";

describe("an event whose job failed after the ledger applied it", () => {
  let d: Deployment;
  let node: Awaited<ReturnType<typeof startNode>>;
  let worker: Worker;
  let token: string;
  beforeAll(async () => {
    d = await deployment({ CREDITMETER_CONSUMER: "false", CREDITMETER_EVENT_ATTEMPTS: "1" });
    node = await startNode(d);
    await node.ledger.putAccount("acme", { plan: "free" });
    await node.ledger.startCycle("acme", cycleOf("c1", 100));
    token = await d.token("farm", "worker");
    worker = new Worker(
      d.queueName,
      async (job) => {
        await node.ledger.applyEvent(StageEventSchema.parse(job.data));
        throw new Error("webhook outbox unreachable");
      },
      { connection: createNodeRedisClient(d.redis.duplicate()), prefix: loadConfig(d.env).queuePrefix },
    );
  });
  afterAll(async () => {
    await worker.close();
    await node.close();
    await d.close();
  });

  it("answers applied with the ledger's result, on the wait and on a repeated POST, and charges once", async () => {
    const e = completed("acme", "s1", "script");
    const first = await request(node.url, "POST", "/v1/events?wait=5000", token, e);
    expect(first).toMatchObject({
      status: 200,
      body: { eventId: e.eventId, result: { status: "applied", charged: 1, available: 99 } },
    });
    // The job itself stays failed: the repeat finds it so before waiting.
    expect(await (await d.queue.getJob(e.eventId))?.getState()).toBe("failed");
    const again = await request(node.url, "POST", "/v1/events?wait=5000", token, e);
    expect(again).toMatchObject({ status: 200, body: { result: { status: "applied", charged: 1 } } });
    const status = await request(node.url, "GET", `/v1/accounts/acme/events/${e.eventId}`, token);
    expect(EventStatus.parse(status.body)).toMatchObject({ state: "applied", result: { charged: 1 } });
    expect((await node.ledger.balance("acme")).available).toBe(99);
  });

  it("still answers a failure when the ledger has no record of the event", async () => {
    const e = completed("ghost", "s1", "script");
    const res = await request(node.url, "POST", "/v1/events?wait=5000", token, e);
    expect(res).toMatchObject({ status: 404, body: { error: { code: "unknown_account" } } });
  });
});
