// Every socket.io client connects (CONTRACT §6 v1.1, issue 13): the default `io(url, { auth })`
// (long-polling, then the upgrade), a polling-only client through a 500-charge burst, a
// websocket-only client as before; and the panel SDK gets a fresh token after `auth:expired`.
import { io, type Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Balance, SessionUpdate } from "@creditmeter/shared";
import { createCreditMeter } from "@creditmeter/panel/sdk";
import { mintToken } from "../../server/src/auth/index.js";
import { waitFor } from "../support/redis-server.js";
import { SECRET, completed, cycleOf, deployment, startNode, type Deployment } from "../realtime/harness.js";

type Transports = ("polling" | "websocket")[] | undefined;

/** A client that records every session:update and balance:update, with the given transports (undefined: socket.io's default). */
function client(url: string, token: string, transports: Transports): { socket: Socket; sessions: SessionUpdate[]; balances: Balance[] } {
  const socket = io(url, { auth: { token }, reconnection: false, forceNew: true, ...(transports ? { transports } : {}) });
  const sessions: SessionUpdate[] = [];
  const balances: Balance[] = [];
  socket.on("session:update", (u: SessionUpdate) => sessions.push(u));
  socket.on("balance:update", (b: Balance) => balances.push(b));
  return { socket, sessions, balances };
}

describe("transports", () => {
  let d: Deployment;
  let node: Awaited<ReturnType<typeof startNode>>;
  const acct = "acct-transports";
  beforeAll(async () => {
    d = await deployment({ CREDITMETER_PUSH_COALESCE_MS: "50" });
    node = await startNode(d);
    await node.ledger.putAccount(acct, { plan: "free" });
    await node.ledger.startCycle(acct, cycleOf("c1", 5000));
  });
  afterAll(async () => {
    await node.close();
    await d.close();
  });

  it("connects a default io(url, { auth }) client and delivers its updates", async () => {
    const c = client(node.url, await d.token(acct), undefined);
    try {
      await waitFor(() => c.balances.length > 0, 10_000, "first balance over the default transports");
      await c.socket.timeout(5000).emitWithAck("session:watch", { sessionId: "default-1" });
      await d.enqueue([completed(acct, "default-1", "script")]);
      await waitFor(() => c.sessions.at(-1)?.used === 1, 10_000, "the charge reaches the default client");
    } finally {
      c.socket.disconnect();
    }
  });

  it("gives a polling-only client every update of a 500-charge burst, the same as a websocket-only one", async () => {
    const polling = client(node.url, await d.token(acct), ["polling"]);
    const websocket = client(node.url, await d.token(acct), ["websocket"]);
    try {
      await waitFor(() => polling.socket.connected && websocket.socket.connected, 10_000, "both connected");
      expect(polling.socket.io.engine.transport.name).toBe("polling");
      expect(websocket.socket.io.engine.transport.name).toBe("websocket");
      await polling.socket.timeout(5000).emitWithAck("session:watch", { sessionId: "burst-1" });
      await websocket.socket.timeout(5000).emitWithAck("session:watch", { sessionId: "burst-1" });
      await d.enqueue(Array.from({ length: 500 }, () => completed(acct, "burst-1", "script")));
      const ledger = async (): Promise<SessionUpdate["seq"]> => (await node.ledger.session(acct, "burst-1")).seq;
      await waitFor(() => polling.sessions.at(-1)?.used === 500 && websocket.sessions.at(-1)?.used === 500, 20_000, "500 on both clients");
      expect(polling.sessions.at(-1)?.seq).toBe(await ledger());
      const seqs = (list: SessionUpdate[]): number[] => list.map((u) => u.seq);
      expect(seqs(polling.sessions)).toEqual(seqs(websocket.sessions));
      for (let i = 1; i < polling.sessions.length; i++) expect(polling.sessions[i]?.seq).toBeGreaterThan(polling.sessions[i - 1]?.seq ?? Infinity);
    } finally {
      polling.socket.disconnect();
      websocket.socket.disconnect();
    }
  });

  it("reconnects the panel SDK with a fresh token from getToken() after auth:expired", async () => {
    const issued: string[] = [];
    const getToken = async (): Promise<string> => {
      // Short-lived: the first token expires within the test; later ones live long.
      const token = await mintToken(SECRET, { sub: acct, role: "user", ttlSeconds: issued.length === 0 ? 2 : 600 });
      issued.push(token);
      return token;
    };
    const meter = createCreditMeter({ url: node.url, getToken, reconnectionDelayMs: 60_000, reconnectionDelayMaxMs: 60_000 });
    const states: string[] = [];
    meter.onState((s) => states.push(s));
    const seen: SessionUpdate[] = [];
    meter.watchSession("expiry-1", (u) => seen.push(u));
    try {
      await waitFor(() => meter.state === "connected", 10_000, "first connect");
      await waitFor(() => issued.length >= 2 && meter.state === "connected", 15_000, "reconnected with a second token");
      expect(states).toContain("reconnecting");
      // The reconnect is immediate (not the 60 s backoff) and the watch is live again.
      await d.enqueue([completed(acct, "expiry-1", "script")]);
      await waitFor(() => seen.at(-1)?.used === 1, 10_000, "an update after the reconnect");
    } finally {
      meter.close();
    }
  });
});
