// API keys (CONTRACT §5 v1.1) against real servers and Redis: created, listed, scoped, revoked,
// accepted on REST and Socket.IO, stored as a hash only, and never written to logs or metrics.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Writable } from "node:stream";
import { pino } from "pino";
import { ApiKeyCreated, ApiKeyList, ErrorBody, EventBatchAnswer, type StageEvent } from "@creditmeter/shared";
import { loadConfig } from "../../server/src/config/config.js";
import { startServer } from "../../server/src/app/compose.js";
import {
  completed,
  cycleOf,
  deployment,
  handshakeResult,
  recorder,
  startNode,
  type Deployment,
} from "../realtime/harness.js";
import { waitFor } from "../support/redis-server.js";
import { spawnLoopbackServer, type LoopbackServer } from "../support/server-process.js";
import { request } from "./http-client.js";

let d: Deployment;
let node: Awaited<ReturnType<typeof startNode>>;
let ops: string;
const logLines: string[] = [];

beforeAll(async () => {
  d = await deployment({ CREDITMETER_METRICS_PUBLIC: "true" });
  // Every log line at the most verbose level, to prove no key material reaches the logs.
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(chunk.toString());
      done();
    },
  });
  const server = await startServer(loadConfig(d.env), pino({ level: "trace" }, sink));
  node = Object.assign(server, { url: `http://127.0.0.1:${server.port}` });
  ops = await d.token("ops", "ops");
  for (const id of ["acme", "other"]) {
    expect((await request(node.url, "PUT", `/v1/accounts/${id}`, ops, { plan: "free" })).status).toBe(200);
    expect((await request(node.url, "POST", `/v1/accounts/${id}/cycles`, ops, cycleOf("c1", 100))).status).toBe(200);
  }
});
afterAll(async () => {
  await node.close();
  await d.close();
});

async function createKey(body: Record<string, unknown>): Promise<ApiKeyCreated> {
  const res = await request(node.url, "POST", "/v1/api-keys", ops, body);
  expect(res.status).toBe(201);
  return ApiKeyCreated.parse(res.body);
}

function started(accountId: string): StageEvent {
  return { ...completed(accountId, "s1", "script"), type: "stage.started" };
}

describe("API keys", () => {
  it("are created with a cmk_ key shown once, listed without it, and stored only as a hash", async () => {
    const created = await createKey({ name: "render farm", role: "worker" });
    expect(created).toMatchObject({ name: "render farm", role: "worker", accountId: null });
    expect(created.key).toMatch(/^cmk_/);
    const list = ApiKeyList.parse((await request(node.url, "GET", "/v1/api-keys", ops)).body);
    const listed = list.keys.find((k) => k.id === created.id);
    expect(listed).toEqual({
      id: created.id,
      name: "render farm",
      role: "worker",
      accountId: null,
      createdAt: created.createdAt,
      lastUsedAt: null,
    });
    expect(JSON.stringify(list)).not.toContain(created.key.slice(-20));
    // Nothing in Redis holds the key or its secret part: only its SHA-256.
    const secret = created.key.split("_").slice(2).join("_");
    for await (const keys of d.redis.scanIterator({ MATCH: `${d.prefix}:*apikeys*` })) {
      for (const k of keys) expect(JSON.stringify(await d.redis.hGetAll(k))).not.toContain(secret);
    }
  });

  it("are accepted as bearer tokens, record lastUsedAt, and wrong or malformed keys are 401", async () => {
    const { key, id } = await createKey({ name: "w", role: "worker" });
    expect((await request(node.url, "POST", "/v1/events", key, started("acme"))).status).toBe(202);
    await waitFor(
      async () => {
        const list = ApiKeyList.parse((await request(node.url, "GET", "/v1/api-keys", ops)).body);
        return list.keys.find((k) => k.id === id)?.lastUsedAt != null;
      },
      5000,
      "lastUsedAt",
    );
    const forged = key.slice(0, -4) + (key.endsWith("AAAA") ? "BBBB" : "AAAA");
    for (const bad of [forged, "cmk_nothing", `${key}x`]) {
      const res = await request(node.url, "POST", "/v1/events", bad, started("acme"));
      expect(res.status).toBe(401);
      expect(ErrorBody.parse(res.body).error.code).toBe("unauthorized");
    }
    // A worker key posts events and does nothing of ops.
    expect((await request(node.url, "GET", "/v1/api-keys", key)).status).toBe(403);
    expect((await request(node.url, "GET", "/v1/accounts/acme/balance", key)).status).toBe(403);
  });

  it("scoped to an account act on that account only", async () => {
    const worker = (await createKey({ name: "acme farm", role: "worker", accountId: "acme" })).key;
    expect((await request(node.url, "POST", "/v1/events", worker, started("acme"))).status).toBe(202);
    const other = await request(node.url, "POST", "/v1/events", worker, started("other"));
    expect(other.status).toBe(403);
    expect(ErrorBody.parse(other.body).error.code).toBe("forbidden");
    const batch = EventBatchAnswer.parse(
      (await request(node.url, "POST", "/v1/events/batch", worker, { events: [started("acme"), started("other")] }))
        .body,
    );
    expect(batch.accepted).toHaveLength(1);
    expect(batch.rejected).toEqual([{ index: 1, error: expect.objectContaining({ code: "forbidden" }) }]);
    expect((await request(node.url, "GET", "/v1/accounts/other/events/e-1", worker)).status).toBe(403);
    expect((await request(node.url, "GET", "/v1/accounts/acme/events/e-1", worker)).status).toBe(200);

    const opsKey = (await createKey({ name: "acme ops", role: "ops", accountId: "acme" })).key;
    expect((await request(node.url, "GET", "/v1/accounts/acme/balance", opsKey)).status).toBe(200);
    expect((await request(node.url, "GET", "/v1/accounts/other/balance", opsKey)).status).toBe(403);
    expect(
      (await request(node.url, "POST", "/v1/accounts/other/packs", opsKey, { packId: "p1", credits: 5 })).status,
    ).toBe(403);
    expect((await request(node.url, "GET", "/v1/api-keys", opsKey)).status).toBe(403);
    expect((await request(node.url, "GET", "/v1/ops/failed", opsKey)).status).toBe(403);
    expect(await handshakeResult(node.url, { token: opsKey })).toBe("connected");
    expect(await handshakeResult(node.url, { token: opsKey, accountId: "other" })).toBe("forbidden");
    expect(await handshakeResult(`${node.url}/ops`, { token: opsKey })).toBe("forbidden");

    // Connected on its own account, the scoped key may not watch (or unwatch) another account's session.
    const panel = recorder(node.url, { token: opsKey, accountId: "acme" });
    try {
      await new Promise<void>((resolve, reject) => {
        panel.socket.once("connect", () => resolve());
        panel.socket.once("connect_error", reject);
      });
      const foreign: unknown = await panel.socket
        .timeout(10_000)
        .emitWithAck("session:watch", { sessionId: "s1", accountId: "other" });
      expect(foreign).toMatchObject({ ok: false, error: { code: "forbidden" } });
      const own: unknown = await panel.socket
        .timeout(10_000)
        .emitWithAck("session:watch", { sessionId: "s1", accountId: "acme" });
      expect(own).toMatchObject({ ok: true });
    } finally {
      panel.socket.disconnect();
    }
  });

  it("are accepted on Socket.IO and refused there once revoked", async () => {
    const { key, id } = await createKey({ name: "ops panel", role: "ops" });
    expect(await handshakeResult(node.url, { token: key, accountId: "acme" })).toBe("connected");
    expect(await handshakeResult(`${node.url}/ops`, { token: key })).toBe("connected");
    // A socket already open with the key is dropped once it is revoked, not only new handshakes.
    const open = recorder(node.url, { token: key, accountId: "acme" });
    await new Promise<void>((resolve, reject) => {
      open.socket.once("connect", () => resolve());
      open.socket.once("connect_error", reject);
    });
    const dropped = new Promise<number>((resolve) => open.socket.once("disconnect", () => resolve(Date.now())));
    const revokedAt = Date.now();
    expect((await request(node.url, "DELETE", `/v1/api-keys/${id}`, ops)).status).toBe(204);
    expect((await dropped) - revokedAt).toBeLessThan(2000);
    expect(await handshakeResult(node.url, { token: key, accountId: "acme" })).toBe("unauthorized");
    expect((await request(node.url, "DELETE", `/v1/api-keys/${id}`, ops)).status).toBe(404);
    const list = ApiKeyList.parse((await request(node.url, "GET", "/v1/api-keys", ops)).body);
    expect(list.keys.map((k) => k.id)).not.toContain(id);
  });

  it("never reach the logs or the metrics", async () => {
    const { key, id } = await createKey({ name: "secretive", role: "worker" });
    await request(node.url, "POST", "/v1/events", key, started("acme"));
    await request(node.url, "POST", "/v1/events", `${key.slice(0, -1)}Z`, started("acme"));
    await request(node.url, "DELETE", `/v1/api-keys/${id}`, ops);
    await request(node.url, "POST", "/v1/events", key, started("acme"));
    const metrics = await request(node.url, "GET", "/metrics");
    const secret = key.split("_").slice(2).join("_");
    expect(logLines.length).toBeGreaterThan(0);
    for (const text of [logLines.join(""), String(metrics.body)]) {
      expect(text).not.toContain(secret.slice(0, 16));
      expect(text).not.toContain(secret.slice(-16));
    }
  });
});

describe("a revoked key", () => {
  it("is refused by every process within 2 s", async () => {
    const dep = await deployment();
    const procs: LoopbackServer[] = [];
    try {
      // Both spawned before either is waited for: they start side by side.
      for (let i = 0; i < 2; i++) procs.push(await spawnLoopbackServer({ ...dep.env, LOG_LEVEL: "warn" }));
      for (const p of procs) await p.ready();
      const urls = procs.map((p) => p.url);
      const opsToken = await dep.token("ops", "ops");
      const created = ApiKeyCreated.parse(
        (await request(urls[0] ?? "", "POST", "/v1/api-keys", opsToken, { name: "x", role: "ops" })).body,
      );
      // Both processes accept it (and so have it cached) before the revocation.
      for (const url of urls)
        expect((await request(url, "GET", "/v1/accounts/none/balance", created.key)).status).toBe(404);
      expect((await request(urls[0] ?? "", "DELETE", `/v1/api-keys/${created.id}`, opsToken)).status).toBe(204);
      const revokedAt = Date.now();
      // When the first refused request was sent, per process (polled side by side): the promise is
      // about requests made 2 s after the revocation, not about how long a loaded machine takes to
      // answer the last poll.
      const refusedSentAt = await Promise.all(
        urls.map(async (url) => {
          let sentAt = 0;
          await waitFor(
            async () => {
              sentAt = Date.now();
              return (await request(url, "GET", "/v1/accounts/none/balance", created.key)).status === 401;
            },
            5000,
            `${url} refuses`,
          );
          return sentAt;
        }),
      );
      for (const sentAt of refusedSentAt) expect(sentAt - revokedAt).toBeLessThan(2000);
    } finally {
      await Promise.all(procs.map((p) => p.kill("SIGTERM")));
      await dep.close();
    }
  });
});
