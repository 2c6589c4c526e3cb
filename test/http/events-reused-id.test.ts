// CONTRACT §2 v1.1 over HTTP: a reused eventId with another body is a `conflict` even while the
// first job is still queued or sits failed — BullMQ drops a job whose id it already holds, so the
// ledger would never see it. Real Redis, BullMQ and (where it matters) the consumer.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventBatchAnswer, EventStatus, ErrorBody, type StageEvent } from "@creditmeter/shared";
import { completed, cycleOf, deployment, startNode, type Deployment } from "../realtime/harness.js";
import { eventually, request } from "./http-client.js";

async function setUp(d: Deployment, url: string): Promise<{ ops: string; worker: string }> {
  const ops = await d.token("ops", "ops");
  expect((await request(url, "PUT", "/v1/accounts/acme", ops, { plan: "free" })).status).toBe(200);
  expect((await request(url, "POST", "/v1/accounts/acme/cycles", ops, cycleOf("c1", 100))).status).toBe(200);
  return { ops, worker: await d.token("farm", "worker") };
}

function conflictField(res: { status: number; body: unknown }): string | undefined {
  expect(res.status).toBe(409);
  const { error } = ErrorBody.parse(res.body);
  expect(error.code).toBe("conflict");
  expect(error.message).toMatch(/^conflict: \w+: /);
  return error.details?.field;
}

describe("a reused eventId while the first job is still queued (no consumer)", () => {
  let d: Deployment;
  let node: Awaited<ReturnType<typeof startNode>>;
  let worker: string;
  beforeAll(async () => {
    d = await deployment({ CREDITMETER_CONSUMER: "false" });
    node = await startNode(d);
    ({ worker } = await setUp(d, node.url));
  });
  afterAll(async () => {
    await node.close();
    await d.close();
  });

  const post = (e: StageEvent, query = "") => request(node.url, "POST", `/v1/events${query}`, worker, e);

  it("answers 409 conflict naming the field for another body, 202 for the same body, and queues nothing new", async () => {
    const e = completed("acme", "s1", "voiceover", { seconds: 20 });
    expect((await post(e)).status).toBe(202);
    expect(conflictField(await post({ ...e, seconds: 50 }))).toBe("seconds");
    expect(conflictField(await post({ ...e, seconds: 50 }, "?wait=2000"))).toBe("seconds");
    expect(conflictField(await post({ ...e, stepId: "other" }))).toBe("stepId");
    expect((await post(e)).status).toBe(202);
    expect((await d.queue.getJob(e.eventId))?.data).toEqual(e);
  });

  it("takes scenes absent and scenes 1 (the default) as the same event", async () => {
    const e = completed("acme", "s1", "image");
    expect((await post(e)).status).toBe(202);
    expect((await post({ ...e, scenes: 1 })).status).toBe(202);
    expect(conflictField(await post({ ...e, scenes: 2 }))).toBe("scenes");
  });

  it("in a batch: rejects a conflicting repeat, queues an identical one once, rejects a clash with a queued job", async () => {
    const queued = completed("acme", "s1", "script");
    expect((await post(queued)).status).toBe(202);
    const img = completed("acme", "s1", "image", { scenes: 2 });
    const events = [img, { ...img, scenes: 3 }, img, { ...queued, stepId: "clash" }];
    const res = await request(node.url, "POST", "/v1/events/batch", worker, { events });
    expect(res.status).toBe(202);
    const answer = EventBatchAnswer.parse(res.body);
    expect(answer.accepted).toEqual([img.eventId]);
    expect(answer.rejected.map((r) => [r.index, r.error.code, r.error.details?.field])).toEqual([
      [1, "conflict", "scenes"],
      [3, "conflict", "stepId"],
    ]);
    expect((await d.queue.getJob(img.eventId))?.data).toEqual(img);
    expect((await d.queue.getJob(queued.eventId))?.data).toEqual(queued);
  });

  it("with ?wait, a conflicting second post never gets the first event's result", async () => {
    const e = completed("acme", "s1", "script");
    expect((await post(e)).status).toBe(202);
    const second = post({ ...e, stepId: "other" }, "?wait=8000");
    // A consumer starts while the second post may be waiting: the first job completes.
    const consumer = await startNode(d, { CREDITMETER_CONSUMER: "true" });
    try {
      expect(conflictField(await second)).toBe("stepId");
      const applied = await eventually("first applied", async () => {
        const res = await request(node.url, "GET", `/v1/accounts/acme/events/${e.eventId}`, worker);
        const st = EventStatus.parse(res.body);
        return st.state === "applied" ? st : undefined;
      });
      expect(applied.result?.status).toBe("applied");
      // Applied now (its job removed): the other body is still refused, from the ledger's record.
      expect(conflictField(await post({ ...e, stepId: "other" }, "?wait=2000"))).toBe("stepId");
    } finally {
      await consumer.close();
    }
  });
});

describe("a reused eventId whose first job failed, and the status of an applied one", () => {
  let d: Deployment;
  let node: Awaited<ReturnType<typeof startNode>>;
  let worker: string;
  beforeAll(async () => {
    d = await deployment();
    node = await startNode(d);
    ({ worker } = await setUp(d, node.url));
  });
  afterAll(async () => {
    await node.close();
    await d.close();
  });

  it("answers the failed job's error to a repeat, not 202 queued", async () => {
    const e = completed("ghost", "s1", "script");
    await d.enqueue([e]);
    await eventually("failed", async () => ((await d.queue.getJobState(e.eventId)) === "failed" ? true : undefined));
    const res = await request(node.url, "POST", "/v1/events", worker, e);
    expect(res.status).toBe(404);
    expect(ErrorBody.parse(res.body).error.code).toBe("unknown_account");
  });

  it("answers applied with its result after a conflicting re-post's job failed", async () => {
    const e = completed("acme", "s1", "script");
    await d.enqueue([e]);
    const status = async () => EventStatus.parse((await request(node.url, "GET", `/v1/accounts/acme/events/${e.eventId}`, worker)).body);
    const applied = await eventually("applied", async () => {
      const st = await status();
      return st.state === "applied" ? st : undefined;
    });
    // A worker that speaks BullMQ reuses the id with another body: that job fails with conflict.
    await d.enqueue([{ ...e, stepId: "other" }]);
    await eventually("re-post failed", async () => ((await d.queue.getJobState(e.eventId)) === "failed" ? true : undefined));
    expect((await d.queue.getJob(e.eventId))?.failedReason).toMatch(/^conflict: stepId/);
    expect(await status()).toMatchObject({ state: "applied", result: applied.result });
  });
});
