import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Webhook, WebhookPayload } from "@creditmeter/shared";
import { waitFor } from "../support/redis-server.js";
import { cycleOf, deployment, startNode, type Deployment } from "../realtime/harness.js";
import { attemptDelivery } from "../../server/src/webhooks/deliver.js";
import { isPrivateAddress } from "../../server/src/webhooks/address-guard.js";
import { startReceiver } from "./receiver.js";
import { createWebhook, documentedRecipeVerifies, started } from "./helpers.js";

async function call(url: string, token: string | null, method: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(url, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

// The ops routes of CONTRACT §7 and the SSRF guard of production.
describe("webhook routes", () => {
  let d: Deployment;
  let dev: Awaited<ReturnType<typeof startNode>>;
  let prod: Awaited<ReturnType<typeof startNode>>;
  let ops = "";

  beforeAll(async () => {
    d = await deployment({ CREDITMETER_WEBHOOK_RETRY_BASE_MS: "200" });
    dev = await startNode(d);
    // Production without CREDITMETER_WEBHOOK_ALLOW_PRIVATE: the guard is on. No consumer: only routes.
    prod = await startNode(d, { NODE_ENV: "production", CREDITMETER_CONSUMER: "false" });
    ops = await d.token("ops-1", "ops");
  });
  afterAll(async () => {
    await Promise.all([dev.close(), prod.close()]);
    await d.close();
  });

  it("creates, lists (never the secret), deletes; only ops", async () => {
    const created = await createWebhook(dev.url, ops, { url: "https://hooks.example.com/in", events: ["balance.alert", "stage.denied"] });
    expect(created).toMatchObject({ url: "https://hooks.example.com/in", events: ["balance.alert", "stage.denied"], accountId: null });
    const list = await call(`${dev.url}/v1/webhooks`, ops, "GET");
    expect(list.status).toBe(200);
    const listed = (list.json as { webhooks: unknown[] }).webhooks.map((w) => Webhook.strict().parse(w));
    expect(listed.map((w) => w.id)).toContain(created.id);
    expect(JSON.stringify(list.json)).not.toContain(created.secret);

    const user = await d.token("acct-1", "user");
    const worker = await d.token("w-1", "worker");
    expect((await call(`${dev.url}/v1/webhooks`, user, "GET")).status).toBe(403);
    expect((await call(`${dev.url}/v1/webhooks`, worker, "POST", { url: "https://x.example.com/", events: ["stage.denied"] })).status).toBe(403);
    expect((await call(`${dev.url}/v1/webhooks`, null, "GET")).status).toBe(401);
    // An ops API key scoped to one account must not reach webhooks that hear every account.
    const scoped = await call(`${dev.url}/v1/api-keys`, ops, "POST", { name: "scoped", role: "ops", accountId: "acct-1" });
    expect(scoped.status).toBe(201);
    const scopedKey = (scoped.json as { key: string }).key;
    expect((await call(`${dev.url}/v1/webhooks`, scopedKey, "GET")).status).toBe(403);
    expect((await call(`${dev.url}/v1/webhooks`, scopedKey, "POST", { url: "https://x.example.com/", events: ["stage.denied"], accountId: "acct-1" })).status).toBe(403);
    expect((await call(`${dev.url}/v1/webhooks/${created.id}/deliveries`, scopedKey, "GET")).status).toBe(403);

    expect((await call(`${dev.url}/v1/webhooks/${created.id}`, ops, "DELETE")).status).toBe(204);
    expect((await call(`${dev.url}/v1/webhooks/${created.id}`, ops, "DELETE")).status).toBe(404);
    expect((await call(`${dev.url}/v1/webhooks/${created.id}/deliveries`, ops, "GET")).status).toBe(404);
    expect((await call(`${dev.url}/v1/webhooks/nonsense/deliveries`, ops, "GET")).status).toBe(404);
  });

  it("refuses bad bodies naming the field", async () => {
    const cases: [unknown, string][] = [
      [{ url: "ftp://example.com/", events: ["stage.denied"] }, "url"],
      [{ url: "https://example.com/", events: [] }, "events"],
      [{ url: "https://example.com/", events: ["balance.low"] }, "events.0"],
      [{ url: "https://example.com/", events: ["stage.denied"], extra: 1 }, "extra"],
      [{ url: "https://example.com/", events: ["stage.denied"], accountId: "a:b" }, "accountId"],
    ];
    for (const [body, field] of cases) {
      const res = await call(`${dev.url}/v1/webhooks`, ops, "POST", body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.json).toMatchObject({ error: { code: "invalid_input", details: { field } } });
    }
  });

  it("in production refuses loopback and private URLs, literal or resolved by DNS", async () => {
    for (const url of ["http://127.0.0.1:9/", "http://localhost:9/", "http://10.1.2.3/", "http://[::1]:9/", "http://169.254.169.254/latest", "http://[::ffff:127.0.0.1]/"]) {
      const res = await call(`${prod.url}/v1/webhooks`, ops, "POST", { url, events: ["stage.denied"] });
      expect(res.status, url).toBe(400);
      expect(res.json, url).toMatchObject({ error: { code: "invalid_input", details: { field: "url" } } });
    }
  });

  it("refuses private addresses at delivery time too, after DNS resolution", async () => {
    const receiver = await startReceiver();
    try {
      const base = { body: "{}", headers: {}, timeoutMs: 2000, allowPrivate: false };
      expect(await attemptDelivery({ ...base, url: receiver.url })).toMatchObject({ ok: false, error: "blocked_address" });
      // A name that resolves to loopback: caught by the lookup the socket connects with.
      expect(await attemptDelivery({ ...base, url: `http://localhost:${receiver.port}/hook` })).toMatchObject({ ok: false, error: "blocked_address" });
      expect(receiver.received).toEqual([]);
      expect(await attemptDelivery({ ...base, url: receiver.url, allowPrivate: true })).toMatchObject({ ok: true, status: 200 });
    } finally {
      await receiver.close();
    }
  });

  it("classifies addresses", () => {
    for (const a of ["127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "::1", "fd00::1", "fe80::1", "::ffff:10.0.0.1"]) {
      expect(isPrivateAddress(a), a).toBe(true);
    }
    for (const a of ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8", "172.32.0.1"]) {
      expect(isPrivateAddress(a), a).toBe(false);
    }
  });

  it("rotates a secret: during the grace both sign, with graceSeconds 0 only the new one", async () => {
    const receiver = await startReceiver();
    try {
      const acct = "wh-rotate";
      await dev.ledger.putAccount(acct, { plan: "free" });
      await dev.ledger.startCycle(acct, cycleOf("c1", 0));
      const hook = await createWebhook(dev.url, ops, { url: receiver.url, events: ["stage.denied"], accountId: acct });
      const rotated = await call(`${dev.url}/v1/webhooks/${hook.id}/rotate-secret`, ops, "POST");
      expect(rotated.status).toBe(200);
      const fresh = rotated.json as { secret: string; previousSecretExpiresAt: string | null };
      expect(fresh.secret).not.toBe(hook.secret);
      expect(Date.parse(fresh.previousSecretExpiresAt ?? "")).toBeGreaterThan(Date.now() + 86_000_000);
      await d.enqueue([started(acct)]);
      await waitFor(() => receiver.received.length === 1, 10_000, "a delivery during the grace");
      const first = receiver.received[0];
      const sig1 = String(first?.headers["creditmeter-signature"]);
      expect(sig1).toMatch(/^t=\d+,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/);
      expect(documentedRecipeVerifies(fresh.secret, sig1, first?.body ?? "")).toBe(true);
      expect(documentedRecipeVerifies(hook.secret, sig1, first?.body ?? "")).toBe(true);

      const now = await call(`${dev.url}/v1/webhooks/${hook.id}/rotate-secret`, ops, "POST", { graceSeconds: 0 });
      const newest = now.json as { secret: string; previousSecretExpiresAt: string | null };
      expect(newest.previousSecretExpiresAt).toBeNull();
      await d.enqueue([started(acct)]);
      await waitFor(() => receiver.received.length === 2, 10_000, "a delivery after an immediate rotation");
      const second = receiver.received[1];
      const sig2 = String(second?.headers["creditmeter-signature"]);
      expect(sig2).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
      expect(documentedRecipeVerifies(newest.secret, sig2, second?.body ?? "")).toBe(true);
      expect(documentedRecipeVerifies(fresh.secret, sig2, second?.body ?? "")).toBe(false);
      expect(WebhookPayload.parse(JSON.parse(second?.body ?? "")).type).toBe("stage.denied");
      expect((await call(`${dev.url}/v1/webhooks/${hook.id}/rotate-secret`, ops, "POST", { graceSeconds: -1 })).status).toBe(400);
    } finally {
      await receiver.close();
    }
  });
});
