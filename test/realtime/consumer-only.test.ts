import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SessionUpdate } from "@creditmeter/shared";
import { createCreditMeter } from "@creditmeter/panel/sdk";
import { waitFor } from "../support/redis-server.js";
import { spawnLoopbackServer, type LoopbackServer } from "../support/server-process.js";
import { completed, cycleOf, deployment, startNode, type Deployment } from "./harness.js";

// The documented topology with the consumer separated: a process with CREDITMETER_HTTP=false
// consumes, and its pushes reach panels connected to an HTTP-only node through the adapter.
describe("a consumer-only process", () => {
  let d: Deployment;
  let web: Awaited<ReturnType<typeof startNode>>;
  let consumer: LoopbackServer;
  const acct = "acct-split";
  let probes = "";

  beforeAll(async () => {
    d = await deployment();
    web = await startNode(d, { CREDITMETER_CONSUMER: "false" });
    consumer = await spawnLoopbackServer({ ...d.env, CREDITMETER_HTTP: "false" });
    await web.ledger.putAccount(acct, { plan: "free" });
    await web.ledger.startCycle(acct, cycleOf("c1", 500));
  });
  afterAll(async () => {
    await consumer.kill("SIGTERM");
    await web.close();
    await d.close();
  });

  // CONTRACT §8 v1.1: an orchestrator probes it and Prometheus scrapes it like any other process.
  it("answers /healthz, /readyz and /metrics on its port, and nothing else", async () => {
    await consumer.ready(); // the consumer-only process answers its probes
    probes = consumer.url;
    expect((await fetch(`${probes}/healthz`)).status).toBe(200);
    expect((await fetch(`${probes}/metrics`)).status, "metrics need an ops token").toBe(401);
    const metrics = await fetch(`${probes}/metrics`, {
      headers: { authorization: `Bearer ${await d.token("ops", "ops")}` },
    });
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/^creditmeter_queue_jobs\{state="waiting"\} \d+$/m);
    expect((await fetch(`${probes}/v1/pricing`)).status, "no API on a consumer-only process").toBe(404);
  });

  it("pushes what it consumes to panels on another node", async () => {
    const meter = createCreditMeter({ url: web.url, token: () => d.token(acct) });
    const seen: SessionUpdate[] = [];
    meter.watchSession("video-1", (u) => seen.push(u));
    try {
      await waitFor(() => seen.length > 0, 10_000, "the first snapshot");
      await d.enqueue(Array.from({ length: 20 }, () => completed(acct, "video-1", "image", { scenes: 2 })));
      await waitFor(() => seen.at(-1)?.used === 120, 20_000, "120 credits pushed by the consumer-only process");
      expect((await web.ledger.session(acct, "video-1")).used).toBe(120);
      expect(await consumer.kill("SIGTERM"), "a graceful stop of the consumer-only process").toBe(0);
    } finally {
      meter.close();
    }
  });
});
