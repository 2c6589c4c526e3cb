import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  WebhookPayload,
  type SessionSnapshot,
  type SessionUpdate,
  type StageDenied,
  type WatchAck,
} from "@creditmeter/shared";
import { waitFor } from "../support/redis-server.js";
import { request } from "../http/http-client.js";
import { startReceiver, type Receiver } from "../webhooks/receiver.js";
import { createWebhook, started } from "../webhooks/helpers.js";
import { completed, cycleOf, deployment, recorder, startNode, type Deployment, type Recorder } from "./harness.js";

// Session budgets over the wire (CONTRACT §6, §10): the REST route and `session:budget`, who may
// call them, the push to the session's watchers, stage:denied's reason and the
// session.budget_reached webhook, on one real server (HTTP, Socket.IO, BullMQ consumer).
describe("session budget over REST and Socket.IO", () => {
  let d: Deployment;
  let node: Awaited<ReturnType<typeof startNode>>;
  let receiver: Receiver;
  let ops = "";
  const acct = "budget-wire";
  const path = (sessionId: string, account = acct): string => `/v1/accounts/${account}/sessions/${sessionId}/budget`;

  beforeAll(async () => {
    d = await deployment();
    node = await startNode(d);
    receiver = await startReceiver();
    ops = await d.token("ops-1", "ops");
    await node.ledger.putAccount(acct, { plan: "free" });
    await node.ledger.startCycle(acct, cycleOf("c1", 1000));
    await node.ledger.putAccount("budget-other", { plan: "free" });
  });
  afterAll(async () => {
    await node.close();
    await receiver.close();
    await d.close();
  });

  /** A socket of `token`, connected, recording what it receives. */
  async function connect(token: string): Promise<Recorder> {
    const r = recorder(node.url, { token });
    await waitFor(() => r.socket.connected, 20_000, "the socket to connect");
    return r;
  }
  const emit = (r: Recorder, event: "session:budget" | "session:watch", payload: object): Promise<WatchAck> =>
    r.socket.timeout(10_000).emitWithAck(event, payload as never) as Promise<WatchAck>;
  const updates = (r: Recorder): SessionUpdate[] =>
    r.packets.filter((p) => p.event === "session:update").map((p) => p.args[0] as SessionUpdate);

  it("PUT sets and removes a budget for the account's user and ops; refuses workers, other users and bad input", async () => {
    const user = await d.token(acct);
    const set = await request(node.url, "PUT", path("rest"), user, { credits: 50 });
    expect(set).toMatchObject({
      status: 200,
      body: { accountId: acct, sessionId: "rest", seq: 1, budget: { credits: 50, remaining: 50, reachedAt: null } },
    });
    const read = await request(node.url, "GET", `/v1/accounts/${acct}/sessions/rest`, user);
    expect(read.body).toEqual(set.body);
    expect(await request(node.url, "PUT", path("rest"), ops, { credits: null })).toMatchObject({
      status: 200,
      body: { seq: 2, budget: null },
    });

    expect(
      await request(node.url, "PUT", path("rest"), await d.token("farm", "worker"), { credits: 10 }),
    ).toMatchObject({ status: 403, body: { error: { code: "forbidden" } } });
    expect(await request(node.url, "PUT", path("rest", "budget-other"), user, { credits: 10 })).toMatchObject({
      status: 403,
      body: { error: { code: "forbidden" } },
    });
    expect(await request(node.url, "PUT", path("rest", "nobody"), ops, { credits: 10 })).toMatchObject({
      status: 404,
      body: { error: { code: "unknown_account" } },
    });
    for (const body of [{ credits: -1 }, { credits: 1.5 }, { credits: "10" }, {}, { credits: 1, extra: true }]) {
      const res = await request(node.url, "PUT", path("rest"), user, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body).toMatchObject({
        error: {
          code: "invalid_input",
          details: { field: Object.keys(body).length === 0 ? "credits" : expect.any(String) },
        },
      });
    }
    expect(await request(node.url, "PUT", path("rest"), user, { credits: -1 })).toMatchObject({
      body: { error: { details: { field: "credits" } } },
    });
    // None of the refusals changed the session.
    expect((await request(node.url, "GET", `/v1/accounts/${acct}/sessions/rest`, user)).body).toMatchObject({
      seq: 2,
      budget: null,
    });
  });

  it("session:budget sets it for the user's own account (pushed to watchers), refuses another account, takes accountId from ops", async () => {
    const user = await connect(await d.token(acct));
    const watcher = await connect(ops);
    try {
      expect(await emit(watcher, "session:watch", { sessionId: "sock", accountId: acct })).toMatchObject({
        ok: true,
        session: { budget: null },
      });
      const ack = await emit(user, "session:budget", { sessionId: "sock", credits: 40 });
      expect(ack).toMatchObject({
        ok: true,
        session: {
          accountId: acct,
          sessionId: "sock",
          seq: 1,
          budget: { credits: 40, remaining: 40, reachedAt: null },
        },
      });
      await waitFor(() => updates(watcher).some((u) => u.seq === 1), 10_000, "the budget pushed to the watcher");
      expect(updates(watcher).at(-1)).toMatchObject({ budget: { credits: 40, remaining: 40 } });

      expect(
        await emit(user, "session:budget", { sessionId: "sock", credits: 10, accountId: "budget-other" }),
      ).toMatchObject({ ok: false, error: { code: "forbidden" } });
      expect(await emit(user, "session:budget", { sessionId: "sock", credits: -5 })).toMatchObject({
        ok: false,
        error: { code: "invalid_input" },
      });
      expect(await emit(watcher, "session:budget", { sessionId: "sock", credits: 10 })).toMatchObject({
        ok: false,
        error: { code: "invalid_input" },
      });
      expect(
        await emit(watcher, "session:budget", { sessionId: "sock", credits: null, accountId: acct }),
      ).toMatchObject({ ok: true, session: { seq: 2, budget: null } });
      expect(
        await emit(watcher, "session:budget", { sessionId: "sock", credits: 1, accountId: "nobody" }),
      ).toMatchObject({ ok: false, error: { code: "unknown_account" } });
      expect((await node.ledger.session("budget-other", "sock")).budget).toBeNull();
    } finally {
      user.socket.disconnect();
      watcher.socket.disconnect();
    }
  });

  it("a budget denial reaches watchers as stage:denied with reason session_budget; session.budget_reached is delivered once per budget set", async () => {
    await createWebhook(node.url, ops, { url: receiver.url, events: ["session.budget_reached"], accountId: acct });
    const user = await connect(await d.token(acct));
    try {
      expect(await emit(user, "session:watch", { sessionId: "video" })).toMatchObject({ ok: true });
      await emit(user, "session:budget", { sessionId: "video", credits: 2 });
      await d.enqueue([started(acct, "video"), started(acct, "video")]);
      await waitFor(
        () => updates(user).some((u) => u.budget?.remaining === 0),
        15_000,
        "the budget used up on the panel",
      );
      const reachedAt = updates(user).at(-1)?.budget?.reachedAt;
      expect(reachedAt).toEqual(expect.any(String));
      const over = started(acct, "video");
      await d.enqueue([over]);
      await waitFor(() => user.packets.some((p) => p.event === "stage:denied"), 15_000, "the denial");
      const denied = user.packets.find((p) => p.event === "stage:denied")?.args[0] as StageDenied;
      expect(denied).toMatchObject({ sessionId: "video", stepId: over.stepId, required: 1, reason: "session_budget" });
      // A worker asking later (HTTP) learns the same reason, and so does a repeat of the event.
      const status = await request(
        node.url,
        "GET",
        `/v1/accounts/${acct}/events/${over.eventId}`,
        await d.token("farm", "worker"),
      );
      expect(status.body).toMatchObject({
        state: "applied",
        result: { status: "denied", decision: "denied", denyReason: "session_budget" },
      });
      const repeat = await request(node.url, "POST", "/v1/events?wait=5000", await d.token("farm", "worker"), over);
      expect(repeat).toMatchObject({
        status: 200,
        body: { result: { status: "duplicate", decision: "denied", denyReason: "session_budget" } },
      });

      await waitFor(() => receiver.received.length >= 1, 15_000, "the budget_reached delivery");
      const first = WebhookPayload.parse(JSON.parse(receiver.received[0]?.body ?? ""));
      expect(first).toMatchObject({
        type: "session.budget_reached",
        data: { accountId: acct, sessionId: "video", reserved: 2, budget: { credits: 2, remaining: 0, reachedAt } },
      });

      // Work beyond the budget is charged; remaining stays 0 and nothing fires again.
      await d.enqueue([completed(acct, "video", "voiceover", { seconds: 5 })]);
      await waitFor(() => updates(user).some((u) => u.used === 5), 15_000, "the charge");
      // A new budget re-arms it: used 5 + reserved 2 reach 8 with one more hold.
      await emit(user, "session:budget", { sessionId: "video", credits: 8 });
      await d.enqueue([started(acct, "video")]);
      await waitFor(() => receiver.received.length >= 2, 15_000, "the second budget_reached delivery");
      const second = WebhookPayload.parse(JSON.parse(receiver.received[1]?.body ?? ""));
      expect((second.data as SessionSnapshot).budget).toMatchObject({ credits: 8, remaining: 0 });
      // Settled: no third delivery for the same budget.
      await waitFor(
        async () => {
          const counts = await d.queue.getJobCounts("waiting", "active");
          return (counts.waiting ?? 0) + (counts.active ?? 0) === 0;
        },
        10_000,
        "the queue to drain",
      );
      expect(receiver.received).toHaveLength(2);
    } finally {
      user.socket.disconnect();
    }
  });

  it("a budget_reached whose first application never reached the outbox is raised by its redelivery, once", async () => {
    const gap = await startReceiver();
    try {
      const account = "budget-gap";
      await node.ledger.putAccount(account, { plan: "free" });
      await node.ledger.startCycle(account, cycleOf("c-gap", 100));
      await createWebhook(node.url, ops, { url: gap.url, events: ["session.budget_reached"], accountId: account });
      await node.ledger.setBudget(account, "video", 1);
      // Applied outside any consumer, as by a process killed before its outbox ran.
      const event = started(account, "video");
      const first = await node.ledger.applyEvent(event);
      const reachedAt = first.budgetReached?.budget?.reachedAt;
      expect(reachedAt).toEqual(expect.any(String));
      const redeliver = async (): Promise<void> => {
        await d.enqueue([event]);
        await waitFor(
          async () => (await d.queue.getJob(event.eventId)) === undefined,
          20_000,
          "the redelivery's job completed",
        );
      };
      await redeliver();
      await waitFor(() => gap.received.length >= 1, 15_000, "the budget_reached re-raised by the duplicate");
      const payload = WebhookPayload.parse(JSON.parse(gap.received[0]?.body ?? ""));
      expect(payload).toMatchObject({
        type: "session.budget_reached",
        createdAt: reachedAt,
        data: { sessionId: "video", budget: { credits: 1, reachedAt } },
      });
      // Marked queued: a further redelivery owes nothing.
      await redeliver();
      await waitFor(
        async () => (await d.queue.getJobCounts("waiting", "active")).waiting === 0,
        10_000,
        "the queue to drain",
      );
      expect(gap.received).toHaveLength(1);
    } finally {
      await gap.close();
    }
  });
});
