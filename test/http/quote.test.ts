// POST /v1/quote (CONTRACT §10) against a real server and Redis: the answer's fields, the plan it
// prices on, validation naming items[i].field with the stage event's rules, and who may ask.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorBody, QuoteAnswer } from "@creditmeter/shared";
import { cycleOf, deployment, startNode, type Deployment } from "../realtime/harness.js";
import { request } from "./http-client.js";

let d: Deployment;
let node: Awaited<ReturnType<typeof startNode>>;
let ops: string;

beforeAll(async () => {
  d = await deployment();
  node = await startNode(d);
  ops = await d.token("ops", "ops");
  expect((await request(node.url, "PUT", "/v1/accounts/acme", ops, { plan: "plus" })).status).toBe(200);
  expect((await request(node.url, "POST", "/v1/accounts/acme/cycles", ops, cycleOf("c1", 100))).status).toBe(200);
});
afterAll(async () => {
  await node.close();
  await d.close();
});

const VIDEO = [
  { action: "script" },
  { action: "image", scenes: 4 },
  { action: "animation", model: "veo-3.1", seconds: 4.2, count: 2 },
  { action: "voiceover", seconds: 30.5 },
];

async function quote(token: string, body: unknown): Promise<{ status: number; body: unknown }> {
  return request(node.url, "POST", "/v1/quote", token, body);
}

describe("POST /v1/quote", () => {
  it("prices items on the plan given, without an account: available and shortfall null", async () => {
    const res = await quote(await d.token("farm", "worker"), { plan: "free", items: VIDEO });
    expect(res.status).toBe(200);
    // script 1; image 4 × 3 = 12; animation ceil(4.2) = 5 s × 20 × 2 = 200; voiceover 31 × 1.
    expect(QuoteAnswer.parse(res.body)).toEqual({
      total: 244,
      byStage: { research: 1, storyboard: 0, keyframes: 12, animation: 200, voiceover: 31 },
      items: [
        { action: "script", model: null, scenes: null, seconds: null, count: 1, credits: 1 },
        { action: "image", model: null, scenes: 4, seconds: null, count: 1, credits: 12 },
        { action: "animation", model: "veo-3.1", scenes: null, seconds: 4.2, count: 2, credits: 200 },
        { action: "voiceover", model: null, scenes: null, seconds: 30.5, count: 1, credits: 31 },
      ],
      plan: "free",
      available: null,
      shortfall: null,
      priceBookVersion: "2026-11-01",
    });
  });

  it("defaults to the free plan, and an account's own plan wins over `plan`", async () => {
    const free = QuoteAnswer.parse((await quote(ops, { items: [{ action: "image", scenes: 2 }] })).body);
    expect(free).toMatchObject({ plan: "free", total: 6 });
    const user = await d.token("acme", "user");
    const own = QuoteAnswer.parse((await quote(user, { accountId: "acme", plan: "free", items: VIDEO })).body);
    // acme is on plus: images cost 0; 100 available, so 232 − 100 short.
    expect(own).toMatchObject({ plan: "plus", total: 232, available: 100, shortfall: 132 });
    const small = QuoteAnswer.parse(
      (await quote(user, { accountId: "acme", items: [{ action: "script", count: 3 }] })).body,
    );
    expect(small).toMatchObject({ total: 3, available: 100, shortfall: 0 });
  });

  it("changes nothing in the ledger", async () => {
    const before = await request(node.url, "GET", "/v1/accounts/acme/balance", ops);
    await quote(ops, { accountId: "acme", items: VIDEO });
    expect((await request(node.url, "GET", "/v1/accounts/acme/balance", ops)).body).toEqual(before.body);
  });

  it.each([
    [
      { items: [{ action: "script" }, { action: "script" }, { action: "animation", model: "dall-e", seconds: 2 }] },
      "items[2].model",
    ],
    [{ items: [{ action: "animation", seconds: 2 }] }, "items[0].model"],
    [{ items: [{ action: "script", seconds: 2 }] }, "items[0].seconds"],
    [{ items: [{ action: "image", model: "sora-2" }] }, "items[0].model"],
    [{ items: [{ action: "voiceover" }] }, "items[0].seconds"],
    [{ items: [{ action: "voiceover", seconds: 0 }] }, "items[0].seconds"],
    [{ items: [{ action: "image", scenes: 1.5 }] }, "items[0].scenes"],
    [{ items: [{ action: "teleport" }] }, "items[0].action"],
    [{ items: [{ action: "script", count: 0 }] }, "items[0].count"],
    [{ items: [{ action: "script", colour: "red" }] }, "items[0].colour"],
    [{ items: Array.from({ length: 201 }, () => ({ action: "script" })) }, "items"],
    [{ plan: "gold", items: [] }, "plan"],
    [{}, "items"],
  ])("refuses %j naming %s", async (body, field) => {
    const res = await quote(ops, body);
    expect(res.status).toBe(400);
    const error = ErrorBody.parse(res.body).error;
    expect(error.code).toBe("invalid_input");
    expect(error.details?.field).toBe(field);
    expect(error.message).toContain(field);
  });

  it("lets a user quote only for its own account, and needs a token", async () => {
    const other = await quote(await d.token("other", "user"), { accountId: "acme", items: VIDEO });
    expect(other.status).toBe(403);
    expect((await request(node.url, "POST", "/v1/quote", undefined, { items: VIDEO })).status).toBe(401);
    expect((await quote(ops, { accountId: "ghost", items: VIDEO })).status).toBe(404);
  });
});
