import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ErrorBody, type StageEvent } from "@creditmeter/shared";
import { call, startTestApp, type TestApp } from "./test-harness.test-support.js";

let app: TestApp;
let worker: string;
beforeAll(async () => {
  app = await startTestApp();
  worker = await app.token("worker", "render-farm");
});
afterAll(() => app.close());
beforeEach(() => {
  app.enqueued.length = 0;
});

function event(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    v: 1,
    eventId: "evt-1",
    type: "stage.started",
    accountId: "acme",
    sessionId: "s1",
    stepId: "step-1",
    action: "script",
    occurredAt: new Date().toISOString(),
    ...overrides,
  };
}

describe("POST /v1/events", () => {
  it("queues a valid event for a worker or ops and answers 202 { eventId }", async () => {
    const res = await call(app, "POST", "/v1/events", { token: worker, json: event() });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ eventId: "evt-1" });
    const ops = await app.token("ops");
    const animation = event({ eventId: "evt-2", action: "animation", model: "sora-2", seconds: 8 });
    expect((await call(app, "POST", "/v1/events", { token: ops, json: animation })).status).toBe(202);
    expect(app.enqueued.map((e: StageEvent) => e.eventId)).toEqual(["evt-1", "evt-2"]);
  });

  it.each([
    ["an unknown field", { colour: "red" }, "colour"],
    ["a wrong version", { v: 2 }, "v"],
    ["an all-digit eventId", { eventId: "12345" }, "eventId"],
    ["an unknown action", { action: "hologram" }, "action"],
    ["seconds on a flat action", { seconds: 5 }, "seconds"],
    ["an unknown model", { action: "animation", model: "dall-e", seconds: 5 }, "model"],
    ["progress outside stage.progress", { progress: 0.5 }, "progress"],
    ["an occurredAt past the retention", { occurredAt: "2000-01-01T00:00:00Z" }, "occurredAt"],
    ["an occurredAt an hour ahead", { occurredAt: new Date(Date.now() + 3_600_000).toISOString() }, "occurredAt"],
  ])("refuses %s with 400 invalid_event naming the field, and queues nothing", async (_what, change, field) => {
    const res = await call(app, "POST", "/v1/events", { token: worker, json: event(change) });
    expect(res.status).toBe(400);
    const { error } = ErrorBody.parse(res.body);
    expect(error.code).toBe("invalid_event");
    expect(error.details?.field).toBe(field);
    expect(error.message).toMatch(new RegExp(`^invalid_event: .*${field}`));
    expect(app.enqueued).toEqual([]);
  });

  it("answers malformed JSON, a non-object and an oversized body as invalid_event", async () => {
    const bad = await call(app, "POST", "/v1/events", { token: worker, raw: "{not json" });
    expect(bad.status).toBe(400);
    expect(ErrorBody.parse(bad.body).error).toMatchObject({ code: "invalid_event", details: { field: "body" } });
    const text = await call(app, "POST", "/v1/events", { token: worker, raw: "hello", contentType: "text/plain" });
    expect(text.status).toBe(400);
    expect(ErrorBody.parse(text.body).error.code).toBe("invalid_event");
    const big = await call(app, "POST", "/v1/events", {
      token: worker,
      json: event({ reason: "x".repeat(app.config.maxBodyBytes) }),
    });
    expect(big.status).toBe(413);
    expect(ErrorBody.parse(big.body).error.code).toBe("invalid_event");
    expect(app.enqueued).toEqual([]);
  });
});

describe("GET /v1/pricing", () => {
  it("answers the price book in force, without a token", async () => {
    const res = await call(app, "GET", "/v1/pricing");
    expect(res.status).toBe(200);
    expect(res.body).toEqual(JSON.parse(JSON.stringify(app.config.priceBook)));
  });
});
