// PUT /v1/accounts/:accountId/sessions/:sessionId/plan (CONTRACT §10) against a real server, Redis,
// BullMQ and Socket.IO: who may set a plan, its validation, and its forecast in every snapshot
// (the answer, REST, the session:watch ack, and session:update pushed as a session change).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyCreated, ErrorBody, SessionSnapshot, type SessionUpdate, type WatchAck } from "@creditmeter/shared";
import {
  completed,
  cycleOf,
  deployment,
  recorder,
  startNode,
  type Deployment,
  type Recorder,
} from "../realtime/harness.js";
import { waitFor } from "../support/redis-server.js";
import { request } from "./http-client.js";

let d: Deployment;
let node: Awaited<ReturnType<typeof startNode>>;
let ops: string;
const open: Recorder[] = [];

beforeAll(async () => {
  d = await deployment();
  node = await startNode(d);
  ops = await d.token("ops", "ops");
  for (const id of ["acme", "other"]) {
    expect((await request(node.url, "PUT", `/v1/accounts/${id}`, ops, { plan: "free" })).status).toBe(200);
    expect((await request(node.url, "POST", `/v1/accounts/${id}/cycles`, ops, cycleOf("c1", 100))).status).toBe(200);
  }
});
afterAll(async () => {
  for (const r of open) r.socket.disconnect();
  await node.close();
  await d.close();
});

// free: 2 scripts + animation 6 s × 10 + 5 scenes × 3 = 77.
const ITEMS = [
  { action: "script", count: 2 },
  { action: "animation", model: "sora-2", seconds: 5.5 },
  { action: "image", scenes: 5 },
];

function plan(accountId: string, sessionId: string, token: string | undefined, items: unknown) {
  return request(node.url, "PUT", `/v1/accounts/${accountId}/sessions/${sessionId}/plan`, token, { items });
}

describe("PUT …/sessions/:sessionId/plan", () => {
  it("is allowed to workers, ops and the account's own user, and refused to anyone else", async () => {
    expect((await plan("acme", "auth", await d.token("farm", "worker"), ITEMS)).status).toBe(200);
    expect((await plan("acme", "auth", ops, ITEMS)).status).toBe(200);
    expect((await plan("acme", "auth", await d.token("acme", "user"), ITEMS)).status).toBe(200);
    const other = await plan("acme", "auth", await d.token("other", "user"), ITEMS);
    expect(other.status).toBe(403);
    expect(ErrorBody.parse(other.body).error.code).toBe("forbidden");
    expect((await plan("acme", "auth", undefined, ITEMS)).status).toBe(401);
    const scoped = ApiKeyCreated.parse(
      (await request(node.url, "POST", "/v1/api-keys", ops, { name: "k", role: "worker", accountId: "other" })).body,
    );
    expect((await plan("acme", "auth", scoped.key, ITEMS)).status).toBe(403);
    expect((await plan("other", "auth", scoped.key, ITEMS)).status).toBe(200);
    // Three accepted calls on acme: three session changes. The refused ones changed nothing.
    expect(
      SessionSnapshot.parse((await request(node.url, "GET", "/v1/accounts/acme/sessions/auth", ops)).body).seq,
    ).toBe(3);
  });

  it("validates items like a quote, naming items[i].field, and refuses an unknown account", async () => {
    const bad = await plan("acme", "v", ops, [{ action: "script" }, { action: "image", seconds: 3 }]);
    expect(bad.status).toBe(400);
    expect(ErrorBody.parse(bad.body).error).toMatchObject({
      code: "invalid_input",
      details: { field: "items[1].seconds" },
    });
    const missing = await request(node.url, "PUT", "/v1/accounts/acme/sessions/v/plan", ops, {});
    expect(ErrorBody.parse(missing.body).error.details?.field).toBe("items");
    expect((await plan("ghost", "v", ops, ITEMS)).status).toBe(404);
  });

  it("answers and pushes the snapshot with its forecast; REST and the watch ack carry it; [] removes it", async () => {
    const user = await d.token("acme", "user");
    const watcher = recorder(node.url, { token: user });
    open.push(watcher);
    const ack = (await watcher.socket.timeout(10_000).emitWithAck("session:watch", { sessionId: "video" })) as WatchAck;
    expect(ack).toMatchObject({ ok: true, session: { seq: 0, forecast: null } });

    const set = await plan("acme", "video", user, ITEMS);
    expect(set.status).toBe(200);
    const answered = SessionSnapshot.parse(set.body);
    // 100 available, nothing charged in the last 5 minutes.
    expect(answered).toMatchObject({
      seq: 1,
      forecast: { planned: 77, remaining: 77, shortfall: 0, burnPerMinute: 0, runsOutInSeconds: null },
    });
    const pushed = (): SessionUpdate[] =>
      watcher.packets
        .filter((p) => p.event === "session:update")
        .map((p) => p.args[0] as SessionUpdate)
        .filter((s) => s.sessionId === "video");
    await waitFor(() => pushed().some((s) => s.seq === 1), 20_000, "session:update after the plan");
    expect(pushed().find((s) => s.seq === 1)?.forecast).toEqual(answered.forecast);

    // A charge through the queue: the next session:update carries the forecast after it.
    await d.enqueue([completed("acme", "video", "animation", { model: "sora-2", seconds: 6 })]);
    await waitFor(() => pushed().some((s) => s.seq === 2), 20_000, "session:update after the charge");
    // used 60 of 77: 17 to go; 40 available; C = 60 → 12 a minute, 40 × 300 / 60 = 200 s.
    const after = { planned: 77, remaining: 17, shortfall: 0, burnPerMinute: 12, runsOutInSeconds: 200 };
    expect(pushed().find((s) => s.seq === 2)?.forecast).toEqual(after);
    expect(
      SessionSnapshot.parse((await request(node.url, "GET", "/v1/accounts/acme/sessions/video", user)).body).forecast,
    ).toEqual(after);
    const again = (await watcher.socket
      .timeout(10_000)
      .emitWithAck("session:watch", { sessionId: "video" })) as WatchAck;
    expect(again.ok && again.session.forecast).toEqual(after);

    const removed = await plan("acme", "video", user, []);
    expect(SessionSnapshot.parse(removed.body)).toMatchObject({ seq: 3, forecast: null });
    await waitFor(
      () => pushed().some((s) => s.seq === 3 && s.forecast === null),
      20_000,
      "session:update after removing the plan",
    );
  });
});
