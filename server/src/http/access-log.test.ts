// The access log (issue 12): one JSON line per request carrying a request id, the caller's
// X-Request-Id when it is sane, a fresh one otherwise, echoed in the answer.
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accessLog } from "./access-log.js";
import { startTestApp, type TestApp } from "./test-harness.test-support.js";

const lines: { req?: { id?: string; url?: string } }[] = [];

/** The line is written when the response finishes, which may be after the client has it. */
async function lineOf(id: string): Promise<(typeof lines)[number] | undefined> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const line = lines.find((l) => l.req?.id === id);
    if (line) return line;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return undefined;
}
const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    for (const line of chunk.toString("utf8").split("\n")) if (line.trim()) lines.push(JSON.parse(line));
    done();
  },
});
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ accessLog: accessLog(pino({ level: "info" }, sink)) });
});
afterAll(() => app.close());

describe("access log", () => {
  it("keeps a sane X-Request-Id, logs it and echoes it", async () => {
    const res = await fetch(`${app.url}/v1/pricing`, {
      headers: { "x-request-id": "lb-7f3a.42", authorization: "Bearer secret-token" },
    });
    expect(res.headers.get("x-request-id")).toBe("lb-7f3a.42");
    const line = await lineOf("lb-7f3a.42");
    expect(line?.req?.url).toBe("/v1/pricing");
    expect(JSON.stringify(line)).not.toContain("secret-token");
  });

  it("replaces an insane X-Request-Id with a generated one", async () => {
    const res = await fetch(`${app.url}/v1/pricing`, { headers: { "x-request-id": "x".repeat(300) } });
    const id = res.headers.get("x-request-id") ?? "";
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await lineOf(id)).toBeDefined();
  });
});
