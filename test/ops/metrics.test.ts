import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { completed, cycleOf, deployment, startNode, type Deployment } from "../realtime/harness.js";
import { waitFor } from "../support/redis-server.js";
import { watchOps, type OpsWatcher } from "./ops-client.js";

/** Prometheus text → sample name with labels (as written) → value. */
function parseProm(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const cut = line.lastIndexOf(" ");
    out.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return out;
}

function sample(m: Map<string, number>, name: string, labels: Record<string, string> = {}): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let total = 0;
  let found = false;
  for (const [key, value] of m) {
    const brace = key.indexOf("{");
    const n = brace < 0 ? key : key.slice(0, brace);
    if (n !== name) continue;
    if (want.every((w) => key.includes(w))) {
      total += value;
      found = true;
    }
  }
  if (!found) throw new Error(`no sample ${name} ${JSON.stringify(labels)}`);
  return total;
}

// A /metrics scrape after a known set of events: every counter equals what was processed.
describe("/metrics", () => {
  let d: Deployment;
  let node: Awaited<ReturnType<typeof startNode>>;
  let ops: OpsWatcher;

  beforeAll(async () => {
    d = await deployment();
    node = await startNode(d);
    ops = watchOps(node.url, await d.token("ops-1", "ops"));
    await ops.connected;
  });
  afterAll(async () => {
    ops?.close();
    await node?.close();
    await d?.close();
  });

  it("needs an ops token unless public", async () => {
    expect((await fetch(`${node.url}/metrics`)).status).toBe(401);
    const user = await fetch(`${node.url}/metrics`, { headers: { authorization: `Bearer ${await d.token("u1")}` } });
    expect(user.status).toBe(403);
  });

  it("counts events by type and status, credits by action/model/plan, latency, sockets and queue depth", async () => {
    await node.ledger.putAccount("m-1", { plan: "free" });
    await node.ledger.startCycle("m-1", cycleOf("c-m-1", 100_000));
    await node.ledger.putAccount("m-poor", { plan: "free" });
    const events = [
      ...Array.from({ length: 7 }, () => completed("m-1", "s1", "script")),
      ...Array.from({ length: 3 }, () => completed("m-1", "s1", "animation", { model: "veo-3.1", seconds: 2.2 })),
      completed("m-1", "s2", "image", { scenes: 2 }),
      { ...completed("m-poor", "s1", "animation", { model: "veo-3.1", seconds: 4 }), type: "stage.started" as const },
    ];
    await d.enqueue(events);
    const bad = { ...completed("m-1", "s1", "script"), seconds: 3 };
    await d.queue.add(bad.type, bad, { jobId: bad.eventId });
    const dup = events[0];
    await waitFor(async () => Object.values(await d.queue.getJobCounts("waiting", "active")).every((n) => n === 0), 20_000, "drain");
    if (dup) await d.enqueue([dup]);
    await waitFor(async () => (await d.queue.getJobCounts("failed")).failed === 1 && (await d.queue.getJobCounts("waiting", "active")).waiting === 0, 20_000, "drain again");
    await waitFor(async () => (await node.ledger.balance("m-1")).used === 7 + 3 * 60 + 6, 10_000, "charges");

    const res = await fetch(`${node.url}/metrics`, { headers: { authorization: `Bearer ${await d.token("ops-1", "ops")}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const m = parseProm(await res.text());
    expect(sample(m, "creditmeter_events_total", { type: "stage.completed", status: "applied" })).toBe(11);
    expect(sample(m, "creditmeter_events_total", { type: "stage.completed", status: "duplicate" })).toBe(1);
    expect(sample(m, "creditmeter_events_total", { type: "stage.started", status: "denied" })).toBe(1);
    expect(sample(m, "creditmeter_events_total", { type: "stage.completed", status: "rejected" })).toBe(1);
    expect(sample(m, "creditmeter_events_rejected_total", { reason: "invalid_event" })).toBe(1);
    expect(sample(m, "creditmeter_credits_charged_total", { action: "script", model: "none", plan: "free" })).toBe(7);
    expect(sample(m, "creditmeter_credits_charged_total", { action: "animation", model: "veo-3.1", plan: "free" })).toBe(180);
    expect(sample(m, "creditmeter_credits_charged_total", { action: "image", plan: "free" })).toBe(6);
    expect(sample(m, "creditmeter_credits_charged_total")).toBe((await node.ledger.balance("m-1")).used);
    // One ledger operation per applied, denied or duplicate event (rejected ones never reach it).
    expect(sample(m, "creditmeter_ledger_operation_seconds_count")).toBe(13);
    expect(sample(m, "creditmeter_sockets_connected", { namespace: "/ops" })).toBe(1);
    expect(sample(m, "creditmeter_queue_jobs", { state: "failed" })).toBe(1);
    expect(sample(m, "creditmeter_queue_jobs", { state: "waiting" })).toBe(0);
    expect(sample(m, "process_cpu_user_seconds_total")).toBeGreaterThan(0);
    expect(m.has("creditmeter_event_to_push_seconds_count")).toBe(true);

    // The same outcomes reached /ops as alerts: the denial and the rejected event.
    await waitFor(async () => ops.alerts.some((a) => a.kind === "denied") && ops.alerts.some((a) => a.kind === "rejected"), 10_000, "ops alerts");
    expect(ops.alerts.find((a) => a.kind === "rejected")?.message).toContain("invalid_event");
    expect(ops.alerts.find((a) => a.kind === "denied")).toMatchObject({ accountId: "m-poor", sessionId: "s1" });
  });
});
