import { createClient, type RedisClientType } from "redis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { Balance, ErrorBody } from "@creditmeter/shared";
import { RedisLedger } from "../ledger/redis-ledger.js";
import { call, startTestApp, testConfig, type TestApp } from "./test-harness.test-support.js";

// The ops API's grants (CONTRACT §3) over HTTP, on a real Redis ledger.
let redis: RedisClientType;
let ledger: RedisLedger;
let app: TestApp;
let ops: string;
let n = 0;

beforeAll(async () => {
  redis = createClient({ url: inject("redisUrl") });
  await redis.connect();
  const config = testConfig();
  ledger = RedisLedger.fromConfig(redis, config);
  app = await startTestApp({ config, ledger });
  ops = await app.token("ops", "ops-alice");
});
afterAll(async () => {
  await app.close();
  await redis.close();
});

async function newAccount(): Promise<string> {
  n += 1;
  const id = `g-${n}`;
  expect((await call(app, "PUT", `/v1/accounts/${id}`, { token: ops, json: { plan: "free" } })).status).toBe(200);
  return id;
}

const day = 86_400_000;
const iso = (ms: number): string => new Date(ms).toISOString();

describe("POST /v1/accounts/:id/cycles, out of order", () => {
  it("refuses a late, older cycle under a new cycleId with 409 conflict and changes nothing", async () => {
    const id = await newAccount();
    const now = Date.now();
    const current = { cycleId: "c-june", credits: 500, start: iso(now - day), end: iso(now + 29 * day) };
    const older = { cycleId: "c-may", credits: 300, start: iso(now - 31 * day), end: iso(now - day) };
    const first = await call(app, "POST", `/v1/accounts/${id}/cycles`, { token: ops, json: current });
    expect(first.status).toBe(200);
    expect(Balance.parse(first.body).available).toBe(500);
    const logBefore = await redis.xLen(ledger.keys(id).log);

    const late = await call(app, "POST", `/v1/accounts/${id}/cycles`, { token: ops, json: older });
    expect(late.status).toBe(409);
    const err = ErrorBody.parse(late.body).error;
    expect(err.code).toBe("conflict");
    expect(err.details).toMatchObject({ field: "cycleId", currentCycleId: "c-june" });

    // Nothing changed: the live cycle, its credits, the audit trail.
    const balance = Balance.parse((await call(app, "GET", `/v1/accounts/${id}/balance`, { token: ops })).body);
    expect(balance).toMatchObject({ available: 500, cycle: { cycleId: "c-june" } });
    expect(await redis.xLen(ledger.keys(id).log)).toBe(logBefore);
    // It was not recorded either: the same body is refused again, not answered as a repeat.
    expect((await call(app, "POST", `/v1/accounts/${id}/cycles`, { token: ops, json: older })).status).toBe(409);
  });

  it("refuses a new cycleId with the same start; the first cycle's repeat still answers 200 after a newer one", async () => {
    const id = await newAccount();
    const now = Date.now();
    const a = { cycleId: "a", credits: 100, start: iso(now - 2 * day), end: iso(now + day) };
    const sameStart = { ...a, cycleId: "a-bis" };
    const b = { cycleId: "b", credits: 200, start: iso(now - day), end: iso(now + 30 * day) };
    const first = await call(app, "POST", `/v1/accounts/${id}/cycles`, { token: ops, json: a });
    expect(first.status).toBe(200);
    expect((await call(app, "POST", `/v1/accounts/${id}/cycles`, { token: ops, json: sameStart })).status).toBe(409);
    expect((await call(app, "POST", `/v1/accounts/${id}/cycles`, { token: ops, json: b })).status).toBe(200);
    const again = await call(app, "POST", `/v1/accounts/${id}/cycles`, { token: ops, json: a });
    expect(again.status).toBe(200);
    expect(Balance.parse((await call(app, "GET", `/v1/accounts/${id}/balance`, { token: ops })).body)).toMatchObject({
      available: 200,
      cycle: { cycleId: "b" },
    });
  });
});

const pack = (packId: string, credits: number) => ({ packId, credits });

describe("grant idempotency records", () => {
  it("answers a repeat with the first answer, not the balance as it stands now", async () => {
    const id = await newAccount();
    const first = await call(app, "POST", `/v1/accounts/${id}/packs`, { token: ops, json: pack("p1", 100) });
    expect(first.status).toBe(200);
    expect((await call(app, "POST", `/v1/accounts/${id}/packs`, { token: ops, json: pack("p2", 50) })).status).toBe(
      200,
    );
    const adj = { adjustmentId: "a1", credits: -30, reason: "chargeback" };
    const firstAdj = await call(app, "POST", `/v1/accounts/${id}/adjustments`, { token: ops, json: adj });
    const cyc = { cycleId: "c1", credits: 10, start: iso(Date.now() - day), end: iso(Date.now() + day) };
    const firstCycle = await call(app, "POST", `/v1/accounts/${id}/cycles`, { token: ops, json: cyc });
    await call(app, "POST", `/v1/accounts/${id}/packs`, { token: ops, json: pack("p3", 7) });

    const again = await call(app, "POST", `/v1/accounts/${id}/packs`, { token: ops, json: pack("p1", 100) });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(Balance.parse(again.body).available).toBe(100);
    expect((await call(app, "POST", `/v1/accounts/${id}/adjustments`, { token: ops, json: adj })).body).toEqual(
      firstAdj.body,
    );
    expect((await call(app, "POST", `/v1/accounts/${id}/cycles`, { token: ops, json: cyc })).body).toEqual(
      firstCycle.body,
    );
    // The repeats changed nothing.
    expect(Balance.parse((await call(app, "GET", `/v1/accounts/${id}/balance`, { token: ops })).body).available).toBe(
      137,
    );
  });

  it("keeps one record per grant for the ledger retention, and no longer grows the per-account hash", async () => {
    const id = await newAccount();
    await call(app, "POST", `/v1/accounts/${id}/packs`, { token: ops, json: pack("p1", 5) });
    const k = ledger.keys(id);
    const retentionMs = app.config.ledgerRetentionDays * day;
    const ttl = await redis.pTTL(k.grant("pack", "p1"));
    expect(ttl).toBeGreaterThan(retentionMs - 60_000);
    expect(ttl).toBeLessThanOrEqual(retentionMs);
    expect(await redis.exists(k.grants)).toBe(0);
  });

  it("still recognises a grant recorded by an earlier release in the per-account hash", async () => {
    const id = await newAccount();
    const k = ledger.keys(id);
    await redis.hSet(k.grants, "pack:old", JSON.stringify({ credits: 5, packId: "old" }));
    const repeat = await call(app, "POST", `/v1/accounts/${id}/packs`, { token: ops, json: pack("old", 5) });
    expect(repeat.status).toBe(200);
    expect(Balance.parse(repeat.body).available).toBe(0);
    expect((await call(app, "POST", `/v1/accounts/${id}/packs`, { token: ops, json: pack("old", 6) })).status).toBe(
      409,
    );
  });
});

describe("grant scripts write nothing when they fail", () => {
  it.each([
    ["cycles", { cycleId: "c1", credits: 10, start: iso(Date.now() - day), end: iso(Date.now() + day) }, "cycle", "c1"],
    ["packs", pack("p1", 10), "pack", "p1"],
    ["adjustments", { adjustmentId: "a1", credits: -10, reason: "debit" }, "adjustment", "a1"],
  ] as const)(
    "POST %s with an audit log of the wrong type: an error, and the account and records untouched",
    async (path, body, kind, grantId) => {
      const id = await newAccount();
      await call(app, "POST", `/v1/accounts/${id}/packs`, { token: ops, json: pack("seed", 50) });
      const k = ledger.keys(id);
      await redis.del(k.log);
      await redis.set(k.log, "not a stream");
      const before = await redis.hGetAll(k.account);
      const res = await call(app, "POST", `/v1/accounts/${id}/${path}`, { token: ops, json: body });
      expect(res.status).toBe(500);
      expect(await redis.hGetAll(k.account)).toEqual(before);
      expect(await redis.exists(k.grant(kind, grantId))).toBe(0);
      // Once the log is repaired the same call goes through (it was not recorded as done).
      await redis.del(k.log);
      expect((await call(app, "POST", `/v1/accounts/${id}/${path}`, { token: ops, json: body })).status).toBe(200);
    },
  );
});
