import { createClient, type RedisClientType } from "redis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { LedgerPage, type LedgerEntry } from "@creditmeter/shared";
import { ApiKeyStore, createAuthVerifier, withApiKeys } from "../auth/index.js";
import { RedisLedger } from "../ledger/redis-ledger.js";
import { call, startTestApp, testConfig, type TestApp } from "./test-harness.test-support.js";

// What the ledger entries of grants say (CONTRACT §3/§4 v1.1): who posted them (`actor`), and
// adjustments as positive magnitudes with their direction. Over HTTP, on a real Redis ledger.
let redis: RedisClientType;
let ledger: RedisLedger;
let app: TestApp;
let ops: string;
let apiKey: { id: string; key: string };
let n = 0;

beforeAll(async () => {
  redis = createClient({ url: inject("redisUrl") });
  await redis.connect();
  const config = testConfig();
  const keys = new ApiKeyStore({ redis, namespace: config.keyPrefix });
  app = await startTestApp({
    config,
    ledger: (ledger = RedisLedger.fromConfig(redis, config)),
    verifier: withApiKeys(createAuthVerifier(config), keys),
  });
  ops = await app.token("ops", "ops-alice");
  apiKey = await keys.create({ name: "billing", role: "ops" });
});
afterAll(async () => {
  await app.close();
  await redis.close();
});

async function newAccount(): Promise<string> {
  n += 1;
  const id = `actor-${n}-${Date.now()}`;
  expect((await call(app, "PUT", `/v1/accounts/${id}`, { token: ops, json: { plan: "free" } })).status).toBe(200);
  return id;
}

async function post(token: string, path: string, json: unknown): Promise<void> {
  const res = await call(app, "POST", path, { token, json });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
}

async function entries(id: string): Promise<LedgerEntry[]> {
  const res = await call(app, "GET", `/v1/accounts/${id}/ledger?limit=100`, { token: ops });
  expect(res.status).toBe(200);
  return LedgerPage.parse(res.body).entries.reverse();
}

const day = 86_400_000;

describe("grant and adjustment entries", () => {
  it("carry the actor: the token's sub, or the API key's id", async () => {
    const id = await newAccount();
    const now = Date.now();
    const cycle = {
      cycleId: "c1",
      credits: 100,
      start: new Date(now - day).toISOString(),
      end: new Date(now + day).toISOString(),
    };
    await post(ops, `/v1/accounts/${id}/cycles`, cycle);
    await post(ops, `/v1/accounts/${id}/packs`, { packId: "p1", credits: 50 });
    await post(apiKey.key, `/v1/accounts/${id}/adjustments`, { adjustmentId: "a1", credits: 7, reason: "goodwill" });

    const list = await entries(id);
    const grants = list.filter((e) => e.kind === "grant" || e.kind === "adjustment");
    expect(grants.map((e) => [e.kind, e.amount, e.actor])).toEqual([
      ["grant", 100, "ops-alice"],
      ["grant", 50, "ops-alice"],
      ["adjustment", 7, apiKey.id],
    ]);
  });

  it("keeps the first actor when another operator repeats the same grant (a repeat, not a conflict)", async () => {
    const id = await newAccount();
    const bob = await app.token("ops", "ops-bob");
    await post(ops, `/v1/accounts/${id}/packs`, { packId: "p1", credits: 50 });
    await post(bob, `/v1/accounts/${id}/packs`, { packId: "p1", credits: 50 });
    const packs = (await entries(id)).filter((e) => e.kind === "grant");
    expect(packs.map((e) => [e.amount, e.actor])).toEqual([[50, "ops-alice"]]);
  });

  it("write a debit adjustment as a positive amount that says it is a debit; a refund says credit", async () => {
    const id = await newAccount();
    await post(ops, `/v1/accounts/${id}/packs`, { packId: "p1", credits: 100 });
    await post(ops, `/v1/accounts/${id}/adjustments`, {
      adjustmentId: "chargeback",
      credits: -30,
      reason: "chargeback",
    });
    await post(ops, `/v1/accounts/${id}/adjustments`, { adjustmentId: "refund", credits: 5, reason: "goodwill" });

    const adjustments = (await entries(id)).filter((e) => e.kind === "adjustment");
    expect(adjustments.map((e) => [e.amount, e.direction, e.balanceAfter.available])).toEqual([
      [30, "debit", 70],
      [5, "credit", 75],
    ]);
  });

  it("read an adjustment written before v1.1 (signed amount, no direction) as magnitude and direction", async () => {
    const id = await newAccount();
    const fields = { k: "adjustment", amt: "-12", av: "0", hd: "0", od: "12", bucket: "old", why: "chargeback" };
    await redis.xAdd(ledger.keys(id).log, "*", fields);
    const [old] = (await entries(id)).filter((e) => e.kind === "adjustment");
    expect(old).toMatchObject({ amount: 12, direction: "debit", actor: null });
  });
});
