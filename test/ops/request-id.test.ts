// The access log's request id reaches the job (issue 12): on each HTTP path that queues events,
// the consumer's log lines for the job carry the X-Request-Id the caller sent. The id rides in the
// job's options, so the event (job data, fingerprint) is untouched: the same event posted again
// under another request id is still a duplicate.
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pino } from "pino";
import { EventBatchAnswer, EventDecided, type StageEvent } from "@creditmeter/shared";
import { loadConfig } from "../../server/src/config/config.js";
import { startServer, type RunningServer } from "../../server/src/app/compose.js";
import { completed, cycleOf, deployment, type Deployment } from "../realtime/harness.js";
import { eventually } from "../http/http-client.js";

interface LogLine {
  msg?: string;
  eventId?: string;
  requestId?: string | null;
  status?: string;
  reason?: string;
}

let d: Deployment;
let server: RunningServer;
let base = "";
let worker = "";
const lines: LogLine[] = [];

beforeAll(async () => {
  d = await deployment();
  // Debug level: a processed event is logged at debug ("event processed"), a failed one at warn.
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const text of chunk.toString().split("\n")) if (text.trim()) lines.push(JSON.parse(text) as LogLine);
      done();
    },
  });
  server = await startServer(loadConfig(d.env), pino({ level: "debug" }, sink));
  base = `http://127.0.0.1:${server.port}`;
  const ops = await d.token("ops", "ops");
  worker = await d.token("rid", "worker");
  const send = (method: string, path: string, body: unknown) =>
    fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${ops}`, "content-type": "application/json" }, body: JSON.stringify(body) });
  expect((await send("PUT", "/v1/accounts/rid", { plan: "free" })).status).toBe(200);
  expect((await send("POST", "/v1/accounts/rid/cycles", cycleOf("c1", 1000))).status).toBe(200);
});
afterAll(async () => {
  await server.close();
  await d.close();
});

async function post(path: string, requestId: string, body: unknown): Promise<Response> {
  return fetch(`${base}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${worker}`, "content-type": "application/json", "x-request-id": requestId },
    body: JSON.stringify(body),
  });
}

/** The consumer's log line `msg` for the event, once the job has been processed (or failed). */
function jobLine(msg: string, eventId: string, requestId: string): Promise<LogLine> {
  return eventually(`"${msg}" for ${eventId} under ${requestId}`, async () =>
    lines.find((l) => l.msg === msg && l.eventId === eventId && l.requestId === requestId),
  );
}

function event(fields: Partial<StageEvent> = {}): StageEvent {
  return completed("rid", "s1", "script", fields);
}

describe("the request id in the job's log lines", () => {
  it("POST /v1/events: the consumer's line for the job carries the caller's X-Request-Id", async () => {
    const e = event();
    const res = await post("/v1/events", "req-plain.1", e);
    expect(res.status).toBe(202);
    expect(res.headers.get("x-request-id")).toBe("req-plain.1");
    expect(await jobLine("event processed", e.eventId, "req-plain.1")).toMatchObject({ status: "applied" });
  });

  it("POST /v1/events?wait: the same, and the answer is the decision", async () => {
    const e = event();
    const res = await post("/v1/events?wait=10000", "req-wait:2", e);
    expect(res.status).toBe(200);
    expect(EventDecided.parse(await res.json()).result.status).toBe("applied");
    expect(await jobLine("event processed", e.eventId, "req-wait:2")).toMatchObject({ status: "applied" });
  });

  it("POST /v1/events/batch: every event of the batch carries the batch request's id", async () => {
    const events = [event(), event()];
    const res = await post("/v1/events/batch", "req-batch-3", { events });
    expect(res.status).toBe(202);
    expect(EventBatchAnswer.parse(await res.json()).accepted).toEqual(events.map((e) => e.eventId));
    for (const e of events) expect(await jobLine("event processed", e.eventId, "req-batch-3")).toMatchObject({ status: "applied" });
  });

  it("a failed job's line carries it too", async () => {
    const e = completed("nobody-here", "s1", "script");
    const res = await post("/v1/events?wait=10000", "req-fail-4", e);
    expect(res.status).toBe(404);
    expect((await jobLine("event failed", e.eventId, "req-fail-4")).reason).toMatch(/^unknown_account/);
  });

  it("the same event under another request id is a duplicate, not a conflict", async () => {
    const e = event();
    expect((await post("/v1/events?wait=10000", "req-first-5", e)).status).toBe(200);
    const again = await post("/v1/events?wait=10000", "req-again-6", e);
    expect(again.status).toBe(200);
    expect(EventDecided.parse(await again.json()).result).toMatchObject({ status: "duplicate", charged: 0 });
    expect(await jobLine("event processed", e.eventId, "req-again-6")).toMatchObject({ status: "duplicate" });
  });

  it("a job added by a worker over BullMQ logs requestId null; a made-up one in its options is not logged", async () => {
    const plain = event();
    const odd = event();
    await d.enqueue([plain]);
    const oddOpts: { jobId: string; requestId: string } = { jobId: odd.eventId, requestId: "has spaces and\nnewlines" };
    await d.queue.add(odd.type, odd, oddOpts);
    const processed = (id: string) => eventually(`"event processed" for ${id}`, async () => lines.find((l) => l.msg === "event processed" && l.eventId === id));
    expect((await processed(plain.eventId)).requestId).toBeNull();
    expect((await processed(odd.eventId)).requestId).toBeNull();
  });
});
