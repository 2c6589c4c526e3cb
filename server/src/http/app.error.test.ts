import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ErrorBody } from "@creditmeter/shared";
import { call, guardLedger, startTestApp, type CallResult, type TestApp } from "./test-harness.test-support.js";

let app: TestApp;
let ops: string;
beforeAll(async () => {
  app = await startTestApp();
  ops = await app.token("ops", "ops-1");
});
afterAll(() => app.close());
afterEach(() => {
  // Bad input changes nothing: the ledger guard throws if reached, and it must not be.
  expect(app.ledgerCalls).toEqual([]);
});

/** Asserts a 400-class answer whose message and details.field name `field`. */
function expectField(res: CallResult, code: string, field: string, status = 400): void {
  expect(res.status).toBe(status);
  const { error } = ErrorBody.parse(res.body);
  expect(error.code).toBe(code);
  expect(error.details?.field).toBe(field);
  expect(error.message).toContain(field);
}

describe("ops API bodies and paths", () => {
  it("names the bad field of each body", async () => {
    const put = (json: unknown) => call(app, "PUT", "/v1/accounts/acme", { token: ops, json });
    const post = (what: string, json: unknown) => call(app, "POST", `/v1/accounts/acme/${what}`, { token: ops, json });
    expectField(await put({ plan: "gold" }), "invalid_input", "plan");
    expectField(await put({ plan: "pro", colour: "red" }), "invalid_input", "colour");
    const cycle = { cycleId: "c1", credits: 300, start: "2025-02-01T00:00:00Z", end: "2025-01-01T00:00:00Z" };
    expectField(await post("cycles", cycle), "invalid_input", "end");
    expectField(await post("cycles", { ...cycle, credits: -1 }), "invalid_input", "credits");
    expectField(await post("packs", { packId: "p1", credits: 1.5 }), "invalid_input", "credits");
    expectField(await post("packs", { packId: "12345", credits: 10 }), "invalid_input", "packId");
    expectField(await post("adjustments", { adjustmentId: "a1", credits: 0, reason: "x" }), "invalid_input", "credits");
    expectField(await post("adjustments", { adjustmentId: "a1", credits: 5 }), "invalid_input", "reason");
  });

  it("names accountId when the path id breaks the pattern", async () => {
    expectField(
      await call(app, "PUT", "/v1/accounts/bad:id", { token: ops, json: { plan: "pro" } }),
      "invalid_input",
      "accountId",
    );
    expectField(await call(app, "GET", "/v1/accounts/-x/balance", { token: ops }), "invalid_input", "accountId");
    expectField(
      await call(app, "GET", "/v1/accounts/acme/sessions/a%20b", { token: ops }),
      "invalid_input",
      "sessionId",
    );
  });

  it("answers malformed JSON, a non-JSON body and an array with 400 naming the body", async () => {
    expectField(await call(app, "PUT", "/v1/accounts/acme", { token: ops, raw: '{"plan":' }), "invalid_input", "body");
    const text = { token: ops, raw: "plan=pro", contentType: "text/plain" };
    expectField(await call(app, "PUT", "/v1/accounts/acme", text), "invalid_input", "body");
    expectField(
      await call(app, "PUT", "/v1/accounts/acme", { token: ops, json: [{ plan: "pro" }] }),
      "invalid_input",
      "body",
    );
  });

  it("answers a body over the limit with 413 in the JSON error shape", async () => {
    const reason = "x".repeat(app.config.maxBodyBytes);
    const res = await call(app, "POST", "/v1/accounts/acme/adjustments", {
      token: ops,
      json: { adjustmentId: "a1", credits: 5, reason },
    });
    expectField(res, "invalid_input", "body", 413);
  });
});

describe("read queries", () => {
  it("names the bad query parameter", async () => {
    const get = (path: string) => call(app, "GET", `/v1/accounts/acme/${path}`, { token: ops });
    expectField(await get("usage?groupBy=week"), "invalid_input", "groupBy");
    expectField(await get("usage?from=yesterday"), "invalid_input", "from");
    expectField(await get("usage?from=2025-02-01T00:00:00Z&to=2025-01-01T00:00:00Z"), "invalid_input", "to");
    expectField(await get("usage?colour=red"), "invalid_input", "colour");
    expectField(await get("ledger?limit=0"), "invalid_input", "limit");
    expectField(await get("ledger?limit=5&limit=6"), "invalid_input", "limit");
    expectField(await get("ledger?cursor=abc"), "invalid_input", "cursor");
  });
});

describe("unknown routes", () => {
  it("answers 404 not_found as JSON, with or without a token", async () => {
    for (const res of [
      await call(app, "GET", "/nope"),
      await call(app, "GET", "/v1/accounts/acme/nope", { token: ops }),
      await call(app, "DELETE", "/v1/accounts/acme", { token: ops }),
    ]) {
      expect(res.status).toBe(404);
      expect(ErrorBody.parse(res.body).error.code).toBe("not_found");
    }
  });
});

describe("unexpected failures", () => {
  it("answers 500 internal without leaking the cause, and logs it", async () => {
    const logged: object[] = [];
    const failing = await startTestApp({
      ledger: { ...guardLedger([]), balance: () => Promise.reject(new Error("redis: secret detail")) },
      logger: { warn: () => undefined, error: (obj) => void logged.push(obj) },
    });
    try {
      const res = await call(failing, "GET", "/v1/accounts/acme/balance", { token: await failing.token("ops") });
      expect(res.status).toBe(500);
      const { error } = ErrorBody.parse(res.body);
      expect(error.code).toBe("internal");
      expect(error.message).not.toContain("secret detail");
      expect(logged).toHaveLength(1);
    } finally {
      await failing.close();
    }
  });
});
