import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RequestRefusedError, StageReporter } from "@creditmeter/reporter";
import { cycleOf, deployment, startNode, type Deployment } from "../realtime/harness.js";
import { request } from "../http/http-client.js";

// The reporter's REST side (CONTRACT §10) against a real server: quote and plan with a worker's
// token, the same numbers the server gives anyone else, and errors named as the server names them.

const ITEMS = [
  { action: "script" as const },
  { action: "image" as const, scenes: 4 },
  { action: "animation" as const, model: "veo-3.1-fast", seconds: 6, count: 2 },
  { action: "voiceover" as const, seconds: 24 },
];
// free plan: 1 + 4 × 3 + 2 × 6 × 10 + 24
const TOTAL = 157;

describe("StageReporter quote and plan over HTTP", () => {
  let d: Deployment;
  let node: Awaited<ReturnType<typeof startNode>>;
  const reporters: StageReporter[] = [];
  const accountId = "rep-http";

  const reporter = (http: boolean, sessionId = "video-1"): StageReporter => {
    const r = new StageReporter({
      connection: { url: d.env.REDIS_URL ?? "" },
      queueName: d.queueName,
      prefix: node.config.queuePrefix,
      accountId,
      sessionId,
      ...(http ? { http: { url: node.url, token: () => d.token(accountId, "worker") } } : {}),
    });
    reporters.push(r);
    return r;
  };

  beforeAll(async () => {
    d = await deployment();
    node = await startNode(d);
    const ops = await d.token("ops", "ops");
    expect((await request(node.url, "PUT", `/v1/accounts/${accountId}`, ops, { plan: "free" })).status).toBe(200);
    expect((await request(node.url, "POST", `/v1/accounts/${accountId}/cycles`, ops, cycleOf("c1", 100))).status).toBe(
      200,
    );
  }, 60_000);
  afterAll(async () => {
    await Promise.all(reporters.map((r) => r.close()));
    await node?.close();
    await d?.close();
  });

  it("quote prices the items on the account's plan, with the shortfall against what is available", async () => {
    const quote = await reporter(true).quote(ITEMS);
    expect(quote).toMatchObject({ total: TOTAL, plan: "free", available: 100, shortfall: TOTAL - 100 });
    expect(quote.byStage).toEqual({ research: 1, storyboard: 0, keyframes: 12, animation: 120, voiceover: 24 });
    expect(quote.items.map((line) => line.credits)).toEqual([1, 12, 120, 24]);
  });

  it("checks items before sending, relays the server's refusals, and needs the http option", async () => {
    const r = reporter(true);
    // Not a valid item at all: refused here, naming the field.
    await expect(r.quote([{ action: "image", scenes: 0 }])).rejects.toThrow(/^invalid_input: items\.0\.scenes/);
    // Well-formed but wrong for its action: the server's rule, the server's words.
    const refused = await r.quote([{ action: "script", seconds: 3 }]).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RequestRefusedError);
    expect(refused).toMatchObject({ status: 400, code: "invalid_input", field: "items[0].seconds" });
    await expect(reporter(false).quote(ITEMS)).rejects.toThrow(/needs the http option/);
  });

  it("plan registers the session's plan: the forecast counts down as work is charged, [] removes it", async () => {
    const r = reporter(true, "video-plan");
    const planned = await r.plan(ITEMS);
    expect(planned).toMatchObject({ sessionId: "video-plan", used: 0 });
    // 100 available before this session charged anything: 57 short.
    expect(planned.forecast).toMatchObject({ planned: TOTAL, remaining: TOTAL, shortfall: TOTAL - 100 });

    await r.completed("script", { action: "script" }, { wait: true });
    const ops = await d.token("ops", "ops");
    const after = await request(node.url, "GET", `/v1/accounts/${accountId}/sessions/video-plan`, ops);
    // One credit charged: one less to go, and one less available.
    expect(after.body).toMatchObject({
      used: 1,
      forecast: { planned: TOTAL, remaining: TOTAL - 1, shortfall: TOTAL - 1 - 99 },
    });

    expect((await r.plan([])).forecast).toBeNull();
  });

  it("a start denied by the session's budget says so", async () => {
    const r = reporter(true, "video-budget");
    const ops = await d.token("ops", "ops");
    const set = await request(node.url, "PUT", `/v1/accounts/${accountId}/sessions/video-budget/budget`, ops, {
      credits: 5,
    });
    expect(set.status).toBe(200);
    const denied = await r.started("scene-1", { action: "animation", model: "veo-3.1-fast", seconds: 1 });
    expect(denied).toMatchObject({ granted: false, status: "denied", denyReason: "session_budget" });
    const granted = await r.started("brief", { action: "creative_brief" });
    expect(granted).toMatchObject({ granted: true, held: 1 });
    expect(granted).not.toHaveProperty("denyReason");
  });
});
