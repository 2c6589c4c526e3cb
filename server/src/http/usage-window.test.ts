// A usage read scans every ledger entry of its window: past CREDITMETER_USAGE_MAX_DAYS it is
// refused before the ledger is touched (issue 12 "Usage reads are bounded").
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorBody } from "@creditmeter/shared";
import { call, startTestApp, testConfig, type TestApp } from "./test-harness.test-support.js";

const DAY = 86_400_000;
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ config: testConfig({ usageMaxDays: 92 }) });
});
afterAll(() => app.close());

async function usage(query: string): Promise<{ status: number; field: string | undefined }> {
  const token = await app.token("ops");
  const res = await call(app, "GET", `/v1/accounts/acme/usage?${query}`, { token });
  const body = ErrorBody.safeParse(res.body);
  return { status: res.status, field: body.success ? body.data.error.details?.field : undefined };
}

const iso = (ms: number): string => new Date(ms).toISOString();

describe("GET /usage window cap", () => {
  it("answers 400 invalid_input naming `from` past the cap, with or without `to`", async () => {
    const now = Date.now();
    expect(await usage(`from=${iso(now - 93 * DAY)}&to=${iso(now)}`)).toEqual({ status: 400, field: "from" });
    expect(await usage(`from=${iso(now - 400 * DAY)}`)).toEqual({ status: 400, field: "from" });
    expect(await usage(`from=2020-01-01T00:00:00.000Z&to=2025-01-01T00:00:00.000Z`)).toEqual({
      status: 400,
      field: "from",
    });
    expect(app.ledgerCalls).toEqual([]);
  });

  it("passes a window at the cap, and the default window, to the ledger", async () => {
    const now = Date.now();
    await usage(`from=${iso(now - 92 * DAY)}&to=${iso(now)}`);
    await usage("");
    expect(app.ledgerCalls).toEqual(["usage", "usage"]);
  });
});
