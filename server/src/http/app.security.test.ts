import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorBody } from "@creditmeter/shared";
import { mintToken } from "../auth/mint-token.js";
import { call, startTestApp, testConfig, type CallResult, type TestApp } from "./test-harness.test-support.js";

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app.close();
  // Every refusal below happened before the ledger or the queue was touched.
  expect(app.ledgerCalls).toEqual([]);
  expect(app.enqueued).toEqual([]);
});

function expectError(res: CallResult, status: number, code: string): void {
  expect(res.status).toBe(status);
  const body = ErrorBody.parse(res.body);
  expect(body.error.code).toBe(code);
}

const event = () => ({
  v: 1,
  eventId: "evt-sec-1",
  type: "stage.started",
  accountId: "acme",
  sessionId: "s1",
  stepId: "step-1",
  action: "script",
  occurredAt: new Date().toISOString(),
});

describe("401 unauthorized", () => {
  it("answers 401 with WWW-Authenticate when no token is sent", async () => {
    for (const [method, path] of [
      ["GET", "/v1/accounts/acme/balance"],
      ["GET", "/v1/accounts/acme/sessions/s1"],
      ["PUT", "/v1/accounts/acme"],
      ["POST", "/v1/accounts/acme/packs"],
      ["POST", "/v1/events"],
      ["GET", "/metrics"],
    ] as const) {
      const res = await call(app, method, path, method === "GET" ? {} : { json: {} });
      expectError(res, 401, "unauthorized");
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
    }
  });

  it("answers 401 for a non-bearer scheme, a garbage token and a token signed with another secret", async () => {
    const res = await fetch(`${app.url}/v1/accounts/acme/balance`, {
      headers: { authorization: "Basic YWNtZTpwdw==" },
    });
    expect(res.status).toBe(401);
    expectError(await call(app, "GET", "/v1/accounts/acme/balance", { token: "x.y.z" }), 401, "unauthorized");
    const forged = await mintToken("another-secret-0123456789", { sub: "acme", role: "ops", ttlSeconds: 60 });
    expectError(await call(app, "GET", "/v1/accounts/acme/balance", { token: forged }), 401, "unauthorized");
  });
});

describe("403 forbidden", () => {
  it("refuses the ops API to a user, even on its own account, and to a worker", async () => {
    for (const role of ["user", "worker"] as const) {
      const token = await app.token(role, "acme");
      expectError(await call(app, "PUT", "/v1/accounts/acme", { token, json: { plan: "pro" } }), 403, "forbidden");
      const pack = { packId: "p1", credits: 100 };
      expectError(await call(app, "POST", "/v1/accounts/acme/packs", { token, json: pack }), 403, "forbidden");
      const adj = { adjustmentId: "a1", credits: 5, reason: "x" };
      expectError(await call(app, "POST", "/v1/accounts/acme/adjustments", { token, json: adj }), 403, "forbidden");
    }
  });

  it("refuses a user every read of another account", async () => {
    const token = await app.token("user", "acme");
    for (const path of ["balance", "sessions/s1", "usage", "ledger"]) {
      const res = await call(app, "GET", `/v1/accounts/globex/${path}`, { token });
      expectError(res, 403, "forbidden");
    }
  });

  it("refuses a worker any account read", async () => {
    const token = await app.token("worker", "acme");
    expectError(await call(app, "GET", "/v1/accounts/acme/balance", { token }), 403, "forbidden");
  });

  it("refuses POST /v1/events to a user, and queues nothing", async () => {
    const token = await app.token("user", "acme");
    expectError(await call(app, "POST", "/v1/events", { token, json: event() }), 403, "forbidden");
  });
});

describe("/metrics", () => {
  it("needs an ops token: none 401, user 403, ops 200 in the registry's content type", async () => {
    expectError(await call(app, "GET", "/metrics"), 401, "unauthorized");
    expectError(await call(app, "GET", "/metrics", { token: await app.token("user") }), 403, "forbidden");
    const res = await call(app, "GET", "/metrics", { token: await app.token("ops") });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(res.body).toBe("creditmeter_up 1\n");
  });

  it("is open when metrics are public", async () => {
    const open = await startTestApp({ config: testConfig({ metricsPublic: true }) });
    try {
      const res = await call(open, "GET", "/metrics");
      expect(res.status).toBe(200);
      expect(res.body).toBe("creditmeter_up 1\n");
    } finally {
      await open.close();
    }
  });
});
