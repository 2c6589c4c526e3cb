import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { completed, cycleOf, deployment, startNode, type Deployment } from "../realtime/harness.js";
import { waitFor } from "../support/redis-server.js";

// The dead-letter view: rejected events listed with their reasons, retried once fixed, or discarded.
describe("/v1/ops/failed", () => {
  let d: Deployment;
  let node: Awaited<ReturnType<typeof startNode>>;
  let auth: { authorization: string };

  beforeAll(async () => {
    d = await deployment();
    node = await startNode(d);
    auth = { authorization: `Bearer ${await d.token("ops-1", "ops")}` };
  });
  afterAll(async () => {
    await node?.close();
    await d?.close();
  });

  it("lists failed events with reasons; retry applies one whose account now exists; discard removes one", async () => {
    const orphan = completed("not-yet", "s1", "script");
    const invalid = { ...completed("f-1", "s1", "script"), seconds: 2 };
    await d.queue.add(orphan.type, orphan, { jobId: orphan.eventId });
    await d.queue.add(invalid.type, invalid, { jobId: invalid.eventId });
    await waitFor(async () => (await d.queue.getJobCounts("failed")).failed === 2, 10_000, "two failed jobs");

    expect((await fetch(`${node.url}/v1/ops/failed`)).status).toBe(401);
    const asUser = await fetch(`${node.url}/v1/ops/failed`, { headers: { authorization: `Bearer ${await d.token("not-yet")}` } });
    expect(asUser.status).toBe(403);

    const list = (await (await fetch(`${node.url}/v1/ops/failed`, { headers: auth })).json()) as {
      total: number;
      jobs: { jobId: string; eventId: string; accountId: string; failedReason: string }[];
    };
    expect(list.total).toBe(2);
    const byId = new Map(list.jobs.map((j) => [j.jobId, j]));
    expect(byId.get(orphan.eventId)?.failedReason).toMatch(/^unknown_account/);
    expect(byId.get(invalid.eventId)?.failedReason).toMatch(/^invalid_event.*seconds/);
    expect(byId.get(orphan.eventId)).toMatchObject({ eventId: orphan.eventId, accountId: "not-yet" });

    await node.ledger.putAccount("not-yet", { plan: "free" });
    await node.ledger.startCycle("not-yet", cycleOf("c-ny", 100));
    const retried = await fetch(`${node.url}/v1/ops/failed/${orphan.eventId}/retry`, { method: "POST", headers: auth });
    expect(retried.status).toBe(200);
    await waitFor(async () => (await node.ledger.balance("not-yet")).used === 1, 10_000, "the retried event to charge");

    const discarded = await fetch(`${node.url}/v1/ops/failed/${invalid.eventId}`, { method: "DELETE", headers: auth });
    expect(discarded.status).toBe(200);
    expect(await d.queue.getJobCounts("failed")).toEqual({ failed: 0 });
    const again = await fetch(`${node.url}/v1/ops/failed/${invalid.eventId}`, { method: "DELETE", headers: auth });
    expect(again.status).toBe(404);
    expect(((await again.json()) as { error: { code: string } }).error.code).toBe("not_found");
    const badQuery = await fetch(`${node.url}/v1/ops/failed?limit=0`, { headers: auth });
    expect(badQuery.status).toBe(400);
  });
});
