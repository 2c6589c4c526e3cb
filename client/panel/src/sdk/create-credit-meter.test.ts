import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { Server, type Socket } from "socket.io";
import type { Balance, SessionSnapshot } from "@creditmeter/shared";
import { createCreditMeter } from "./create-credit-meter.js";
import type { CreditMeter } from "./types.js";

// A real Socket.IO server scripted by the test, so the SDK's ordering rules can be driven exactly.

async function until(probe: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const session = (seq: number, used = seq): SessionSnapshot => ({
  accountId: "a1",
  sessionId: "s1",
  used,
  reserved: 0,
  byStage: { research: used, storyboard: 0, keyframes: 0, animation: 0, voiceover: 0 },
  seq,
  budget: null,
});
const balance = (seq: number): Balance => ({
  accountId: "a1",
  plan: "free",
  available: 100 - seq,
  used: seq,
  held: 0,
  overdraft: 0,
  usagePercent: seq,
  cycle: null,
  buckets: [],
  alert: null,
  seq,
});

interface Scripted {
  url: string;
  sockets: Socket[];
  watches: number[];
  snapshotSeq: { value: number };
  handshakes: string[];
  refuse: { value: string | null };
  close(): Promise<void>;
}

async function scriptedServer(): Promise<Scripted> {
  const http = createServer();
  const io = new Server(http, { transports: ["websocket"] });
  const state: Scripted = {
    url: "",
    sockets: [],
    watches: [],
    snapshotSeq: { value: 5 },
    handshakes: [],
    refuse: { value: null },
    close: async () => undefined,
  };
  io.use((socket, next) => {
    state.handshakes.push(String((socket.handshake.auth as { token?: unknown }).token));
    next(state.refuse.value ? new Error(state.refuse.value) : undefined);
  });
  io.on("connection", (socket) => {
    state.sockets.push(socket);
    socket.emit("balance:update", balance(state.snapshotSeq.value));
    socket.on("session:watch", (_req: unknown, ack: (a: unknown) => void) => {
      state.watches.push(Date.now());
      ack({ ok: true, session: session(state.snapshotSeq.value) });
    });
  });
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
  state.url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  state.close = async () => {
    await io.close();
  };
  return state;
}

describe("createCreditMeter", () => {
  let server: Scripted | null = null;
  let meter: CreditMeter | null = null;
  afterEach(async () => {
    meter?.close();
    await server?.close();
  });

  it("drops session and balance updates whose seq is not newer", async () => {
    server = await scriptedServer();
    meter = createCreditMeter({ url: server.url, token: "t" });
    const seqs: number[] = [];
    const balances: number[] = [];
    meter.onBalance((b) => balances.push(b.seq));
    meter.watchSession("s1", (u) => seqs.push(u.seq));
    await until(() => seqs.length === 1 && balances.length === 1, "snapshots");
    const socket = server.sockets[0];
    if (!socket) throw new Error("no socket");
    for (const seq of [6, 4, 6, 8, 7, 9]) socket.emit("session:update", { ...session(seq), last: null });
    for (const seq of [3, 7, 7, 6, 9]) socket.emit("balance:update", balance(seq));
    // A malformed frame is ignored and does not move the gate.
    socket.emit("session:update", { ...session(100), used: -1, last: null });
    await until(() => seqs.at(-1) === 9 && balances.at(-1) === 9, "last updates");
    expect(seqs).toEqual([5, 6, 8, 9]);
    expect(balances).toEqual([5, 7, 9]);
    expect(meter.balance?.seq).toBe(9);
  });

  it("asks for a fresh token, re-watches and takes a fresh snapshot after a reconnect", async () => {
    server = await scriptedServer();
    let n = 0;
    meter = createCreditMeter({
      url: server.url,
      token: async () => `token-${++n}`,
      reconnectionDelayMs: 20,
      reconnectionDelayMaxMs: 50,
    });
    const seqs: number[] = [];
    meter.watchSession("s1", (u) => seqs.push(u.seq));
    await until(() => seqs.length === 1 && meter?.state === "connected", "first snapshot");

    server.snapshotSeq.value = 12; // changes happened while the panel was away
    server.sockets[0]?.disconnect(true); // the server says goodbye (a deploy): socket.io would not retry by itself
    await until(() => server?.watches.length === 2 && seqs.at(-1) === 12, "re-watch after reconnect");
    expect(server.handshakes).toEqual(["token-1", "token-2"]);
    expect(seqs).toEqual([5, 12]);
    expect(meter.state).toBe("connected");
  });

  it("stops at `unauthorized`", async () => {
    server = await scriptedServer();
    server.refuse.value = "unauthorized";
    meter = createCreditMeter({ url: server.url, token: "bad", reconnectionDelayMs: 20, reconnectionDelayMaxMs: 50 });
    const states: string[] = [];
    meter.onState((s) => states.push(s));
    await until(() => meter?.state === "unauthorized", "unauthorized");
    expect(states).toEqual(["unauthorized"]);
    expect(server.handshakes).toEqual(["bad"]);
  });

  it("retries a refusal that may pass later (rate_limited) with backoff", async () => {
    server = await scriptedServer();
    server.refuse.value = "rate_limited";
    meter = createCreditMeter({ url: server.url, token: "t", reconnectionDelayMs: 20, reconnectionDelayMaxMs: 50 });
    await until(() => (server?.handshakes.length ?? 0) >= 2, "second attempt");
    expect(meter.state).toBe("reconnecting");
    server.refuse.value = null;
    await until(() => meter?.state === "connected", "connected after the limit");
  });
});
