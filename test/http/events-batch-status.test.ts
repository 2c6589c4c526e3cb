// POST /v1/events/batch and GET /v1/accounts/:accountId/events/:eventId against a real server:
// real Redis, the real BullMQ queue and consumer (CONTRACT §4, v1.1).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { EventBatchAnswer, EventStatus, ErrorBody, type StageEvent } from "@creditmeter/shared";
import { completed, cycleOf, deployment, startNode, type Deployment } from "../realtime/harness.js";
import { eventually, request } from "./http-client.js";

let d: Deployment;
let node: Awaited<ReturnType<typeof startNode>>;
let ops: string;
let worker: string;

beforeAll(async () => {
  d = await deployment();
  node = await startNode(d);
  ops = await d.token("ops", "ops");
  worker = await d.token("farm", "worker");
  expect((await request(node.url, "PUT", "/v1/accounts/acme", ops, { plan: "free" })).status).toBe(200);
  expect((await request(node.url, "POST", "/v1/accounts/acme/cycles", ops, cycleOf("c1", 100))).status).toBe(200);
});
afterAll(async () => {
  await node.close();
  await d.close();
});

function started(accountId: string, fields: Partial<StageEvent> = {}): StageEvent {
  return { ...completed(accountId, "s1", "script"), type: "stage.started", ...fields };
}

async function statusOf(accountId: string, eventId: string, token = ops): Promise<EventStatus> {
  const res = await request(node.url, "GET", `/v1/accounts/${accountId}/events/${eventId}`, token);
  expect(res.status).toBe(200);
  return EventStatus.parse(res.body);
}

describe("POST /v1/events/batch", () => {
  it("queues every valid event and lists every invalid one with its index, queuing nothing for it", async () => {
    const good = [started("acme"), completed("acme", "s1", "image", { scenes: 2 })];
    const bad = { ...started("acme"), seconds: 5 };
    const res = await request(node.url, "POST", "/v1/events/batch", worker, { events: [good[0], bad, good[1], "nope"] });
    expect(res.status).toBe(202);
    const answer = EventBatchAnswer.parse(res.body);
    expect(answer.accepted).toEqual(good.map((e) => e.eventId));
    expect(answer.rejected.map((r) => [r.index, r.error.code, r.error.details?.field])).toEqual([
      [1, "invalid_event", "seconds"],
      [3, "invalid_event", "(root)"],
    ]);
    for (const e of good) {
      const s = await eventually(`${e.eventId} applied`, async () => {
        const st = await statusOf("acme", e.eventId);
        return st.state === "applied" ? st : undefined;
      });
      expect(s.result?.status).toBe("applied");
    }
    expect(await d.queue.getJob(bad.eventId)).toBeUndefined();
    expect((await statusOf("acme", bad.eventId)).state).toBe("unknown");
  });

  it("refuses an empty batch, more than 500 events and a body over the limit", async () => {
    const empty = await request(node.url, "POST", "/v1/events/batch", worker, { events: [] });
    expect(empty.status).toBe(400);
    expect(ErrorBody.parse(empty.body).error.details?.field).toBe("events");
    const many = Array.from({ length: 501 }, () => started("acme"));
    expect((await request(node.url, "POST", "/v1/events/batch", worker, { events: many })).status).toBe(400);
    const huge = { events: [{ ...started("acme"), type: "stage.failed", reason: "x".repeat(node.config.maxBatchBodyBytes) }] };
    expect((await request(node.url, "POST", "/v1/events/batch", worker, huge)).status).toBe(413);
    expect((await request(node.url, "POST", "/v1/events/batch", await d.token("acme"), { events: [started("acme")] })).status).toBe(403);
  });

  it("takes 500 events of the largest kind within the default body limit", async () => {
    const events = Array.from({ length: 500 }, () => ({ ...started("acme"), type: "stage.failed" as const, reason: "r".repeat(500) }));
    expect(JSON.stringify({ events }).length).toBeGreaterThan(64 * 1024);
    const res = await request(node.url, "POST", "/v1/events/batch", worker, { events });
    expect(res.status).toBe(202);
    expect(EventBatchAnswer.parse(res.body).accepted).toHaveLength(500);
  });
});

describe("GET /v1/accounts/:accountId/events/:eventId", () => {
  it("answers unknown for an eventId never seen, and for another account's event", async () => {
    expect(await statusOf("acme", `never-${randomUUID()}`)).toMatchObject({ state: "unknown", result: null, failedReason: null });
    const e = started("acme");
    await d.enqueue([e]);
    await eventually("applied", async () => ((await statusOf("acme", e.eventId)).state === "applied" ? true : undefined));
    expect((await statusOf("other", e.eventId)).state).toBe("unknown");
  });

  it("answers applied with the processor's whole result, a denied started included", async () => {
    const e = started("acme");
    await d.enqueue([e]);
    const s = await eventually("applied", async () => {
      const st = await statusOf("acme", e.eventId, await d.token("acme"));
      return st.state === "applied" ? st : undefined;
    });
    const balance = await request(node.url, "GET", "/v1/accounts/acme/balance", ops);
    expect(s.result).toMatchObject({ status: "applied", charged: 0, held: 1, decision: "granted" });
    expect(s.result?.available).toBeGreaterThan(0);
    expect(s.result?.available).toBeGreaterThanOrEqual((balance.body as { available: number }).available);

    expect((await request(node.url, "PUT", "/v1/accounts/broke", ops, { plan: "free" })).status).toBe(200);
    const denied = started("broke");
    await d.enqueue([denied]);
    const ds = await eventually("denied applied", async () => {
      const st = await statusOf("broke", denied.eventId);
      return st.state === "applied" ? st : undefined;
    });
    expect(ds.result).toEqual({ status: "denied", charged: 0, held: 0, available: 0, sessionUsed: 0, decision: "denied", denyReason: "insufficient_credits" });
  });

  it("answers failed with the reason for an event of an account that does not exist", async () => {
    const e = started("ghost");
    await d.enqueue([e]);
    const s = await eventually("failed", async () => {
      const st = await statusOf("ghost", e.eventId);
      return st.state === "failed" ? st : undefined;
    });
    expect(s.failedReason).toMatch(/^unknown_account/);
    expect(s.result).toBeNull();
  });

  it("lets workers, ops and the account's user read it, and no other user", async () => {
    const path = `/v1/accounts/acme/events/e-${randomUUID()}`;
    expect((await request(node.url, "GET", path, worker)).status).toBe(200);
    expect((await request(node.url, "GET", path, await d.token("acme"))).status).toBe(200);
    expect((await request(node.url, "GET", path, await d.token("intruder"))).status).toBe(403);
    expect((await request(node.url, "GET", path)).status).toBe(401);
  });
});

describe("GET …/events/:eventId with the consumer stopped", () => {
  it("answers queued for a job not yet applied", async () => {
    const d2 = await deployment({ CREDITMETER_CONSUMER: "false" });
    const n2 = await startNode(d2);
    try {
      const e = started("acme");
      await d2.enqueue([e]);
      const res = await request(n2.url, "GET", `/v1/accounts/acme/events/${e.eventId}`, await d2.token("ops", "ops"));
      expect(EventStatus.parse(res.body)).toMatchObject({ state: "queued", result: null });
    } finally {
      await n2.close();
      await d2.close();
    }
  });
});
