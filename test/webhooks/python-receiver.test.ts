import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, waitFor } from "../support/redis-server.js";
import { completed, cycleOf, deployment, startNode, type Deployment } from "../realtime/harness.js";
import { signatureHeader } from "../../server/src/webhooks/signature.js";
import { createWebhook, deliveries, started } from "./helpers.js";

const RECEIVER = fileURLToPath(new URL("../../examples/python-webhook-receiver/receiver.py", import.meta.url));

// The stdlib-only Python receiver of examples/ against a running server: it verifies what the
// server signs, and refuses what it did not sign.
describe("examples/python-webhook-receiver", () => {
  let d: Deployment;
  let node: Awaited<ReturnType<typeof startNode>>;
  let python: ChildProcess | null = null;
  const lines: Record<string, unknown>[] = [];

  beforeAll(async () => {
    d = await deployment({ CREDITMETER_WEBHOOK_RETRY_BASE_MS: "200" });
    node = await startNode(d);
  });
  afterAll(async () => {
    python?.kill("SIGKILL");
    await node.close();
    await d.close();
  });

  it("verifies the server's deliveries and refuses forged ones", async () => {
    const ops = await d.token("ops-1", "ops");
    const port = await freePort();
    const acct = "wh-python";
    await node.ledger.putAccount(acct, { plan: "free" });
    await node.ledger.startCycle(acct, cycleOf("c1", 100));
    const hook = await createWebhook(node.url, ops, { url: `http://127.0.0.1:${port}/creditmeter`, events: ["balance.alert", "stage.denied"], accountId: acct });

    const proc = spawn("python3", [RECEIVER], { env: { ...process.env, CREDITMETER_WEBHOOK_SECRET: hook.secret, PORT: String(port) }, stdio: ["ignore", "pipe", "pipe"] });
    python = proc;
    if (!proc.stdout) throw new Error("no stdout");
    createInterface({ input: proc.stdout }).on("line", (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
    await waitFor(() => lines.some((l) => l.listening === port), 20_000, "the Python receiver listening");

    await d.enqueue([completed(acct, "s1", "voiceover", { seconds: 85 })]); // 15 left: past low (20)
    await waitFor(() => lines.some((l) => l.type === "balance.alert"), 15_000, "the alert verified in Python");
    await node.ledger.adjust(acct, { adjustmentId: "drain", credits: -15, reason: "test" }).then((o) => expect(o.balance.available).toBe(0));
    await d.enqueue([started(acct)]);
    await waitFor(() => lines.some((l) => l.type === "stage.denied"), 15_000, "the denial verified in Python");
    expect(lines.find((l) => l.type === "balance.alert")).toMatchObject({ verified: true, data: { accountId: acct, level: "low", available: 15 } });
    await waitFor(async () => (await deliveries(node.url, ops, hook.id)).every((x) => x.lastStatus === 200), 10_000, "every delivery acknowledged with 200");

    // Forged or replayed requests: 400 from the receiver, nothing handled.
    const body = JSON.stringify({ id: "whd_forged", type: "stage.denied", createdAt: new Date().toISOString(), data: {} });
    const now = Math.floor(Date.now() / 1000);
    const post = (signature: string): Promise<number> =>
      fetch(`http://127.0.0.1:${port}/creditmeter`, { method: "POST", headers: { "content-type": "application/json", "creditmeter-signature": signature, "creditmeter-delivery": "whd_forged" }, body }).then((r) => r.status);
    expect(await post(signatureHeader(["whsec_not-the-secret"], now, body))).toBe(400);
    expect(await post(signatureHeader([hook.secret], now - 3600, body))).toBe(400);
    expect(await post("")).toBe(400);
    expect(lines.filter((l) => l.id === "whd_forged")).toEqual([]);
    // The same body rightly signed is handled, once even when sent twice (at least once).
    expect(await post(signatureHeader([hook.secret], now, body))).toBe(200);
    expect(await post(signatureHeader([hook.secret], now, body))).toBe(200);
    await waitFor(() => lines.some((l) => l.id === "whd_forged"), 5000, "the rightly signed one handled");
    expect(lines.filter((l) => l.id === "whd_forged")).toHaveLength(1);
  });
});
