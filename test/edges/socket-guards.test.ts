// Per-socket limits and token lifetime on live sockets (CONTRACT §5/§6 v1.1), with a real server,
// Redis and socket.io-client: a flood of `alert:dismiss` gets `rate_limited` acks and then the
// socket is dropped; a socket ends with its token, after `auth:expired`; iss/aud are checked.
import { io, type Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintToken } from "../../server/src/auth/index.js";
import { SECRET, cycleOf, deployment, handshakeResult, startNode, type Deployment } from "../realtime/harness.js";

function connect(url: string, token: string): Promise<Socket> {
  const socket = io(url, { transports: ["websocket"], auth: { token }, reconnection: false, forceNew: true });
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", reject);
  });
}

describe("socket guards", () => {
  let d: Deployment;
  let node: Awaited<ReturnType<typeof startNode>>;
  beforeAll(async () => {
    d = await deployment();
    node = await startNode(d, {
      CREDITMETER_SOCKET_EVENTS_PER_SECOND: "5",
      CREDITMETER_SOCKET_EVENT_BURST: "5",
      CREDITMETER_SOCKET_REFUSALS_BEFORE_DISCONNECT: "50",
      CREDITMETER_JWT_ISSUER: "https://id.example",
      CREDITMETER_JWT_AUDIENCE: "creditmeter",
    });
    await node.ledger.putAccount("acct-g", { plan: "free" });
    await node.ledger.startCycle("acct-g", cycleOf("c-g", 300));
  });
  afterAll(async () => {
    await node.close();
    await d.close();
  });

  const token = (ttlSeconds: number, claims: { issuer?: string; audience?: string } = { issuer: "https://id.example", audience: "creditmeter" }): Promise<string> =>
    mintToken(SECRET, { sub: "acct-g", role: "user", ttlSeconds, ...claims });

  it("answers a flood of alert:dismiss with rate_limited acks, then disconnects the socket", async () => {
    const socket = await connect(node.url, await token(600));
    const disconnected = new Promise<string>((resolve) => socket.once("disconnect", resolve));
    const dismiss = (): Promise<string> =>
      new Promise((resolve) => socket.emit("alert:dismiss", { level: "low" }, (ack: { ok: boolean; error?: { code: string } }) => resolve(ack.ok ? "ok" : (ack.error?.code ?? "?"))));
    // 20 at once: the burst is served, the rest refused with an ack, and the socket stays.
    const started = performance.now();
    const first = await Promise.all(Array.from({ length: 20 }, dismiss));
    const seconds = (performance.now() - started) / 1000;
    const ok = first.filter((a) => a === "ok").length;
    expect(ok).toBeGreaterThanOrEqual(5);
    expect(ok).toBeLessThanOrEqual(5 + Math.ceil(seconds * 5) + 1);
    expect(first.filter((a) => a === "rate_limited").length).toBe(20 - ok);
    expect(socket.connected).toBe(true);
    // Keep flooding: after 50 refusals in all the server drops the socket.
    for (let i = 0; i < 200 && socket.connected; i += 1) void dismiss();
    expect(await disconnected).toBe("io server disconnect");
  });

  it("emits auth:expired when the token expires, then disconnects", async () => {
    const socket = await connect(node.url, await token(2));
    const events: string[] = [];
    socket.on("auth:expired", () => events.push("auth:expired"));
    const reason = await new Promise<string>((resolve) => socket.once("disconnect", resolve));
    expect(events).toEqual(["auth:expired"]);
    expect(reason).toBe("io server disconnect");
  });

  it("refuses a token without the configured iss or aud, on Socket.IO and REST", async () => {
    expect(await handshakeResult(node.url, { token: await token(600) })).toBe("connected");
    expect(await handshakeResult(node.url, { token: await token(600, { audience: "creditmeter" }) })).toBe("unauthorized");
    expect(await handshakeResult(node.url, { token: await token(600, { issuer: "https://id.example", audience: "other" }) })).toBe("unauthorized");
    const res = await fetch(`${node.url}/v1/accounts/acct-g/balance`, { headers: { authorization: `Bearer ${await token(600, {})}` } });
    expect(res.status).toBe(401);
  });

  it("mints dev-login tokens that pass its own iss/aud checks", async () => {
    const res = await fetch(`${node.url}/dev/login`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    const { token: dev } = (await res.json()) as { token: string };
    expect(await handshakeResult(node.url, { token: dev })).toBe("connected");
  });
});
