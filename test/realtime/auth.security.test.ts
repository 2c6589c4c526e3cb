import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SignJWT } from "jose";
import type { WatchAck } from "@creditmeter/shared";
import { mintToken } from "../../server/src/auth/index.js";
import { waitFor } from "../support/redis-server.js";
import { SECRET, completed, cycleOf, deployment, handshakeResult, recorder, startNode, type Deployment } from "./harness.js";

// Who may connect, and proof on the wire that one account's updates never reach another's panel.
describe("realtime auth and isolation", () => {
  let d: Deployment;
  let node: Awaited<ReturnType<typeof startNode>>;

  beforeAll(async () => {
    d = await deployment();
    node = await startNode(d);
    for (const acct of ["acct-a", "acct-b"]) {
      await node.ledger.putAccount(acct, { plan: "free" });
      await node.ledger.startCycle(acct, cycleOf(`c-${acct}`, 1000));
    }
  });
  afterAll(async () => {
    await node.close();
    await d.close();
  });

  it("refuses missing, expired, wrong-secret and alg-none tokens with `unauthorized`", async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = await new SignJWT({ role: "user" }).setProtectedHeader({ alg: "HS256" }).setSubject("acct-a").setIssuedAt(now - 600).setExpirationTime(now - 300).sign(new TextEncoder().encode(SECRET));
    const wrongSecret = await mintToken("another-secret-0123456789abcdef", { sub: "acct-a", role: "user", ttlSeconds: 600 });
    const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString("base64url");
    const algNone = `${b64({ alg: "none", typ: "JWT" })}.${b64({ sub: "acct-a", role: "user", exp: now + 600 })}.`;
    expect(await handshakeResult(node.url, {})).toBe("unauthorized");
    expect(await handshakeResult(node.url, { token: 42 })).toBe("unauthorized");
    expect(await handshakeResult(node.url, { token: expired })).toBe("unauthorized");
    expect(await handshakeResult(node.url, { token: wrongSecret })).toBe("unauthorized");
    expect(await handshakeResult(node.url, { token: algNone })).toBe("unauthorized");
    expect(await handshakeResult(node.url, { token: await d.token("acct-a") })).toBe("connected");
  });

  it("serves /ops to ops tokens only: another role is `forbidden`, a bad token `unauthorized`", async () => {
    expect(await handshakeResult(`${node.url}/ops`, { token: await d.token("acct-a", "user") })).toBe("forbidden");
    expect(await handshakeResult(`${node.url}/ops`, { token: await d.token("w1", "worker") })).toBe("forbidden");
    expect(await handshakeResult(`${node.url}/ops`, { token: "not-a-jwt" })).toBe("unauthorized");
    expect(await handshakeResult(`${node.url}/ops`, { token: await d.token("ops-1", "ops") })).toBe("connected");
    expect(await handshakeResult(node.url, { token: await d.token("w1", "worker") })).toBe("forbidden");
  });

  it("a user watching a session id another account also uses receives only its own account's data", async () => {
    const a = recorder(node.url, { token: await d.token("acct-a") });
    try {
      await waitFor(() => a.packets.some((p) => p.event === "balance:update"), 5000, "first balance");
      const watch = (payload: unknown) => a.socket.timeout(5000).emitWithAck("session:watch", payload) as Promise<WatchAck>;
      expect(await watch({ sessionId: "shared" })).toMatchObject({ ok: true, session: { accountId: "acct-a", sessionId: "shared", used: 0 } });
      // Naming another account still watches its own session of that id; malformed payloads are
      // answered, never crash the socket.
      expect(await watch({ sessionId: "shared", accountId: "acct-b" })).toMatchObject({ ok: true, session: { accountId: "acct-a", sessionId: "shared" } });
      expect(await watch({ sessionId: "bad:id" })).toMatchObject({ ok: false, error: { code: "invalid_input" } });
      expect(await watch("garbage")).toMatchObject({ ok: false, error: { code: "invalid_input" } });
      expect(await watch({ sessionId: "x", extra: 1 })).toMatchObject({ ok: false, error: { code: "invalid_input" } });
      a.socket.emit("session:watch", { sessionId: "no-ack" } as never);
      a.socket.emit("alert:dismiss", { level: "nope" } as never);

      // The other account's session of the same id is charged 30 times ...
      await d.enqueue(Array.from({ length: 30 }, () => completed("acct-b", "shared", "script")));
      await waitFor(async () => (await node.ledger.session("acct-b", "shared")).used === 30, 10_000, "acct-b charged");
      // ... then ours once: once that arrives, everything of acct-b sent before it would have too.
      await d.enqueue([completed("acct-a", "shared", "storyboard")]);
      await waitFor(() => a.packets.some((p) => p.event === "session:update" && (p.args[0] as { used: number }).used === 1), 5000, "own charge");

      expect(a.socket.connected).toBe(true);
      const accounts = a.packets.map((p) => (p.args[0] as { accountId?: string }).accountId);
      expect(accounts.length).toBeGreaterThan(1);
      expect(accounts.every((acct) => acct === "acct-a")).toBe(true);
      expect(JSON.stringify(a.packets)).not.toContain("acct-b");
    } finally {
      a.socket.disconnect();
    }
  });

  it("limits watched sessions per socket", async () => {
    const a = recorder(node.url, { token: await d.token("acct-a") });
    try {
      await waitFor(() => a.socket.connected, 5000, "connect");
      const max = node.config.maxWatchedSessions;
      for (let i = 0; i < max; i++) {
        expect(await a.socket.timeout(5000).emitWithAck("session:watch", { sessionId: `s${i}` })).toMatchObject({ ok: true });
      }
      expect(await a.socket.timeout(5000).emitWithAck("session:watch", { sessionId: "one-too-many" })).toMatchObject({ ok: false, error: { code: "rate_limited" } });
      // Re-watching one already watched is not a new one.
      expect(await a.socket.timeout(5000).emitWithAck("session:watch", { sessionId: "s0" })).toMatchObject({ ok: true });
    } finally {
      a.socket.disconnect();
    }
  });
});

describe("realtime connection rate per IP", () => {
  it("refuses connections past the per-minute budget with `rate_limited`", async () => {
    const d = await deployment({ CREDITMETER_CONNECTIONS_PER_IP_PER_MINUTE: "2" });
    const node = await startNode(d);
    try {
      const token = await d.token("acct-a");
      const results = [];
      for (let i = 0; i < 3; i++) results.push(await handshakeResult(node.url, { token }));
      expect(results).toEqual(["connected", "connected", "rate_limited"]);
    } finally {
      await node.close();
      await d.close();
    }
  });
});
