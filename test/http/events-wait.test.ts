// POST /v1/events?wait=<ms> against real servers: the decision answered over HTTP, errors after
// queueing answered as errors, and a thousand waiting requests sharing one listener (CONTRACT §4),
// measured by the connections Redis accepted, not by time or a momentary client count.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventDecided, ErrorBody, type StageEvent } from "@creditmeter/shared";
import type { RedisClientType } from "redis";
import { startRedis, type TestRedis } from "../support/redis-server.js";
import { completed, cycleOf, deployment, startNode, type Deployment } from "../realtime/harness.js";
import { request } from "./http-client.js";

let d: Deployment;
let node: Awaited<ReturnType<typeof startNode>>;
let ops: string;
let worker: string;

beforeAll(async () => {
  d = await deployment();
  node = await startNode(d);
  ops = await d.token("ops", "ops");
  worker = await d.token("farm", "worker");
  for (const [id, credits] of [
    ["acme", 100],
    ["broke", 0],
  ] as const) {
    expect((await request(node.url, "PUT", `/v1/accounts/${id}`, ops, { plan: "free" })).status).toBe(200);
    if (credits > 0)
      expect((await request(node.url, "POST", `/v1/accounts/${id}/cycles`, ops, cycleOf("c1", credits))).status).toBe(
        200,
      );
  }
});
afterAll(async () => {
  await node.close();
  await d.close();
});

function started(accountId: string, fields: Partial<StageEvent> = {}): StageEvent {
  return { ...completed(accountId, "s1", "script"), type: "stage.started", ...fields };
}

const post = (base: string, event: unknown, wait: number | string, token = worker) =>
  request(base, "POST", `/v1/events?wait=${wait}`, token, event);

describe("POST /v1/events?wait", () => {
  it("answers 200 with the processor's result once applied, a denial included", async () => {
    const ok = started("acme");
    const res = await post(node.url, ok, 5000);
    expect(res.status).toBe(200);
    expect(EventDecided.parse(res.body)).toMatchObject({
      eventId: ok.eventId,
      result: { status: "applied", held: 1, decision: "granted" },
    });

    const no = started("broke");
    const denied = await post(node.url, no, 5000);
    expect(denied.status).toBe(200);
    expect(EventDecided.parse(denied.body).result).toMatchObject({
      status: "denied",
      held: 0,
      available: 0,
      decision: "denied",
      denyReason: "insufficient_credits",
    });
  });

  it("answers a repeated eventId as a duplicate that carries the original decision", async () => {
    const e = started("broke");
    expect((await post(node.url, e, 5000)).status).toBe(200);
    const again = await post(node.url, e, 5000);
    expect(again.status).toBe(200);
    expect(EventDecided.parse(again.body).result).toMatchObject({
      status: "duplicate",
      charged: 0,
      held: 0,
      decision: "denied",
      denyReason: "insufficient_credits",
    });
  });

  it("answers an event that fails after queueing with its error: 404 unknown_account, 409 conflict", async () => {
    const ghost = await post(node.url, started("ghost"), 5000);
    expect(ghost.status).toBe(404);
    expect(ErrorBody.parse(ghost.body).error.code).toBe("unknown_account");

    const first = started("acme");
    expect((await post(node.url, first, 5000)).status).toBe(200);
    const reused = await post(node.url, { ...first, stepId: "another-step" }, 5000);
    expect(reused.status).toBe(409);
    expect(ErrorBody.parse(reused.body).error.code).toBe("conflict");
    // Posting the refused event again finds its failed job at once: still a conflict, not a 202.
    const again = await post(node.url, { ...first, stepId: "another-step" }, 5000);
    expect(again.status).toBe(409);
  });

  it("refuses an eventId that another account's queued event already holds (job ids are queue-wide)", async () => {
    const d2 = await deployment({ CREDITMETER_CONSUMER: "false" });
    const n2 = await startNode(d2);
    try {
      const theirs = started("acme");
      await d2.enqueue([theirs]);
      const mine = await post(n2.url, { ...theirs, accountId: "broke" }, 2000, await d2.token("farm", "worker"));
      expect(mine.status).toBe(409);
    } finally {
      await n2.close();
      await d2.close();
    }
  });

  it("answers 202 { eventId } when the wait ends first, and refuses a wait out of range", async () => {
    const d2 = await deployment({ CREDITMETER_CONSUMER: "false" });
    const n2 = await startNode(d2);
    try {
      const e = started("acme");
      const t0 = Date.now();
      const res = await post(n2.url, e, 300, await d2.token("farm", "worker"));
      expect(res.status).toBe(202);
      expect(res.body).toEqual({ eventId: e.eventId });
      expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
      const bad = await post(n2.url, started("acme"), 10_001, await d2.token("farm", "worker"));
      expect(bad.status).toBe(400);
      expect(ErrorBody.parse(bad.body).error.details?.field).toBe("wait");
    } finally {
      await n2.close();
      await d2.close();
    }
  });
});

/** Connections Redis has accepted since it started (INFO stats): a counter, not a momentary count. */
async function connectionsOpened(redis: RedisClientType): Promise<number> {
  const line = /total_connections_received:(\d+)/.exec(await redis.info("stats"));
  if (!line?.[1]) throw new Error("INFO stats has no total_connections_received");
  return Number(line[1]);
}

describe("1,000 requests waiting on one process", () => {
  let own: TestRedis;
  beforeAll(async () => {
    // A redis-server of this test's own: its connection counter then counts this test's processes
    // only, not the other files' clients on the run's Redis (two test files run at once).
    own = await startRedis();
  });
  afterAll(async () => {
    await own.stop();
  });

  it("cost no Redis connection each, and all finish with the right answers", async () => {
    const dep = await deployment({
      REDIS_URL: own.url,
      CREDITMETER_CONSUMER: "false",
      CREDITMETER_REQUESTS_PER_IP_PER_MINUTE: "100000",
    });
    const http = await startNode(dep);
    // The consumer runs in another process's place (no HTTP): this process only hears completions.
    const consumer = await startNode(dep, { CREDITMETER_HTTP: "false", CREDITMETER_CONSUMER: "true" });
    try {
      const opsToken = await dep.token("ops", "ops");
      expect((await request(http.url, "PUT", "/v1/accounts/crowd", opsToken, { plan: "free" })).status).toBe(200);
      expect((await request(http.url, "POST", "/v1/accounts/crowd/cycles", opsToken, cycleOf("c1", 600))).status).toBe(
        200,
      );
      const token = await dep.token("farm", "worker");
      const events = Array.from({ length: 1000 }, () => started("crowd"));
      // Connections opened while the requests wait, counted by Redis itself from before the first
      // to after the last answer: how many are open at a given moment does not enter into it.
      const openedBefore = await connectionsOpened(dep.redis);
      const answers = await Promise.all(events.map((e) => post(http.url, e, 10_000, token)));
      const opened = (await connectionsOpened(dep.redis)) - openedBefore;
      // One connection per waiting request would open 1,000. The waiters' one QueueEvents opens one
      // or two, and a reconnect of the processes' own clients a few more; a tenth of the requests
      // is far above all that and far below one each.
      const clients = String(await dep.redis.sendCommand(["CLIENT", "LIST"]));
      expect(opened, `connections opened during ${events.length} requests; clients now:\n${clients}`).toBeLessThan(
        events.length / 10,
      );
      const results = answers.map((a) => {
        expect(a.status).toBe(200);
        return EventDecided.parse(a.body);
      });
      expect(results.map((r) => r.eventId)).toEqual(events.map((e) => e.eventId));
      const granted = results.filter((r) => r.result.decision === "granted");
      const denied = results.filter((r) => r.result.decision === "denied");
      expect(granted).toHaveLength(600);
      expect(denied).toHaveLength(400);
      for (const r of granted) expect(r.result).toMatchObject({ status: "applied", held: 1, charged: 0 });
      for (const r of denied) expect(r.result).toMatchObject({ status: "denied", held: 0, available: 0 });
      // Each grant saw the credits the grants before it left: 599, 598, … 0, each exactly once.
      expect(granted.map((r) => r.result.available).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 600 }, (_, i) => i),
      );
    } finally {
      await consumer.close();
      await http.close();
      await dep.close();
    }
  });
});
