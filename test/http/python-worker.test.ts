// examples/python-worker runs (python3, standard library only) against a real server: it reports
// `started` with ?wait, stops on `denied`, reports `completed` — so the example cannot rot.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { ApiKeyCreated, Balance, EventStatus } from "@creditmeter/shared";
import { cycleOf, deployment, startNode, type Deployment } from "../realtime/harness.js";
import { request } from "./http-client.js";

const WORKER = fileURLToPath(new URL("../../examples/python-worker/worker.py", import.meta.url));

let d: Deployment;
let node: Awaited<ReturnType<typeof startNode>>;
let ops: string;
let key: string;

beforeAll(async () => {
  d = await deployment();
  node = await startNode(d);
  ops = await d.token("ops", "ops");
  expect((await request(node.url, "PUT", "/v1/accounts/studio", ops, { plan: "free" })).status).toBe(200);
  expect((await request(node.url, "POST", "/v1/accounts/studio/cycles", ops, cycleOf("c1", 100))).status).toBe(200);
  expect((await request(node.url, "PUT", "/v1/accounts/broke", ops, { plan: "free" })).status).toBe(200);
  key = ApiKeyCreated.parse((await request(node.url, "POST", "/v1/api-keys", ops, { name: "python", role: "worker" })).body).key;
});
afterAll(async () => {
  await node.close();
  await d.close();
});

function runWorker(args: string[]): Promise<{ code: number; lines: unknown[]; stderr: string }> {
  return new Promise((resolve) => {
    execFile("python3", [WORKER, ...args], { env: { ...process.env, CREDITMETER_URL: node.url, CREDITMETER_KEY: key }, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err && typeof err.code === "number" ? err.code : err ? 1 : 0;
      const lines = stdout.split("\n").filter((l) => l.trim() !== "").map((l): unknown => JSON.parse(l));
      resolve({ code, lines, stderr });
    });
  });
}

async function available(accountId: string): Promise<Balance> {
  return Balance.parse((await request(node.url, "GET", `/v1/accounts/${accountId}/balance`, ops)).body);
}

describe("examples/python-worker", () => {
  it("reports started with wait, does the work and reports completed: charged in full", async () => {
    const run = await runWorker(["--account", "studio", "--session", "py", "--step", "py-anim-1", "--action", "animation", "--model", "veo-3.1-fast", "--seconds", "4"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.lines).toEqual([
      { event: "stage.started", result: expect.objectContaining({ status: "applied", decision: "granted", held: 40 }) },
      { event: "stage.completed", result: expect.objectContaining({ status: "applied", charged: 40 }) },
    ]);
    const b = await available("studio");
    expect(b).toMatchObject({ available: 60, used: 40, held: 0 });
  });

  it("stops on denied: no work, no completed event, nothing charged", async () => {
    const run = await runWorker(["--account", "broke", "--session", "py", "--step", "py-denied-1", "--action", "script"]);
    expect(run.code).toBe(3);
    expect(run.lines).toEqual([
      { event: "stage.started", result: expect.objectContaining({ status: "denied", decision: "denied" }) },
      { stopped: "denied", reason: "insufficient_credits" },
    ]);
    const st = EventStatus.parse((await request(node.url, "GET", "/v1/accounts/broke/events/py-denied-1.completed.1", ops)).body);
    expect(st.state).toBe("unknown");
    expect(await available("broke")).toMatchObject({ used: 0, overdraft: 0 });
  });

  it("exits 1 with the error for an account that does not exist", async () => {
    const run = await runWorker(["--account", "ghost", "--session", "py", "--action", "script"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/404 unknown_account/);
  });
});
