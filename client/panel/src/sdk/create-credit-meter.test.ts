import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { Server, type Socket } from "socket.io";
import type { Balance, SessionSnapshot } from "@creditmeter/shared";
import { createCreditMeter } from "./create-credit-meter.js";
import { CreditMeterRequestError } from "./request-error.js";
import type { CreditMeter, SessionState } from "./types.js";

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
  forecast: null,
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
  /** `session:budget` requests as received. */
  budgets: unknown[];
  /** POST /v1/quote requests: authorization header and body. */
  quotes: { authorization: string | undefined; body: unknown }[];
  close(): Promise<void>;
}

const QUOTE = {
  total: 61,
  byStage: { research: 1, storyboard: 0, keyframes: 0, animation: 60, voiceover: 0 },
  items: [],
  plan: "free",
  available: 40,
  shortfall: 21,
  priceBookVersion: "v1",
};

/** The REST side of the scripted server: POST /v1/quote answers QUOTE, or an error for an empty list. */
function quoteRoute(state: Scripted) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    let raw = "";
    req.on("data", (chunk: Buffer) => (raw += chunk.toString()));
    req.on("end", () => {
      const body = JSON.parse(raw || "null") as { items?: unknown[] } | null;
      state.quotes.push({ authorization: req.headers.authorization, body });
      const empty = (body?.items ?? []).length === 0;
      res.writeHead(empty ? 400 : 200, { "content-type": "application/json" });
      res.end(
        JSON.stringify(
          empty ? { error: { code: "invalid_input", message: "invalid_input: items: too small" } } : QUOTE,
        ),
      );
    });
  };
}

async function scriptedServer(): Promise<Scripted> {
  const state: Scripted = {
    url: "",
    sockets: [],
    watches: [],
    snapshotSeq: { value: 5 },
    handshakes: [],
    refuse: { value: null },
    budgets: [],
    quotes: [],
    close: async () => undefined,
  };
  const http = createServer(quoteRoute(state));
  const io = new Server(http, { transports: ["websocket"] });
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
    // 13 is refused, as a server refuses what it will not take; anything else is set.
    socket.on("session:budget", (req: { credits: number | null }, ack: (a: unknown) => void) => {
      state.budgets.push(req);
      if (req.credits === 13)
        return ack({ ok: false, error: { code: "invalid_input", message: "invalid_input: credits: unlucky" } });
      state.snapshotSeq.value += 1;
      const budget =
        req.credits === null
          ? null
          : { credits: req.credits, remaining: Math.max(0, req.credits - state.snapshotSeq.value), reachedAt: null };
      ack({ ok: true, session: { ...session(state.snapshotSeq.value), budget, forecast: null } });
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

  it("delivers budget and forecast with every session frame (null where a server sends none)", async () => {
    server = await scriptedServer();
    meter = createCreditMeter({ url: server.url, token: "t" });
    const seen: SessionState[] = [];
    meter.watchSession("s1", (u) => seen.push(u));
    await until(() => seen.length === 1, "snapshot");
    expect(seen[0]).toMatchObject({ seq: 5, budget: null, forecast: null, last: null });
    const forecast = { planned: 160, remaining: 150, shortfall: 0, burnPerMinute: 2, runsOutInSeconds: 1200 };
    server.sockets[0]?.emit("session:update", {
      ...session(6),
      last: null,
      budget: { credits: 50, remaining: 44, reachedAt: null },
      forecast,
    });
    // A frame whose forecast is malformed is dropped whole.
    server.sockets[0]?.emit("session:update", {
      ...session(7),
      last: null,
      budget: null,
      forecast: { ...forecast, shortfall: -1 },
    });
    server.sockets[0]?.emit("session:update", { ...session(8), last: null, budget: null, forecast: null });
    // A server before v1.1 sends neither field: read as null.
    const { budget: _budget, forecast: _forecast, ...older } = session(9);
    server.sockets[0]?.emit("session:update", { ...older, last: null });
    await until(() => seen.at(-1)?.seq === 9, "updates");
    expect(seen.map((u) => u.seq)).toEqual([5, 6, 8, 9]);
    expect(seen[3]).toMatchObject({ budget: null, forecast: null });
    expect(seen[1]).toMatchObject({ budget: { credits: 50, remaining: 44, reachedAt: null }, forecast });
    expect(seen[2]).toMatchObject({ budget: null, forecast: null });
  });

  it("setBudget sends session:budget, resolves with the session and hands it to the watchers; refusals carry the server's words", async () => {
    server = await scriptedServer();
    meter = createCreditMeter({ url: server.url, token: "t" });
    const seen: SessionState[] = [];
    meter.watchSession("s1", (u) => seen.push(u));
    await until(() => seen.length === 1, "snapshot");

    const after = await meter.setBudget("s1", 40);
    expect(server.budgets).toEqual([{ sessionId: "s1", credits: 40 }]);
    expect(after).toMatchObject({ sessionId: "s1", seq: 6, budget: { credits: 40, remaining: 34, reachedAt: null } });
    await until(() => seen.at(-1)?.seq === 6, "the watcher got it");
    expect(seen.at(-1)?.budget).toEqual({ credits: 40, remaining: 34, reachedAt: null });

    const refused = await meter.setBudget("s1", 13).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(CreditMeterRequestError);
    expect(refused).toMatchObject({ code: "invalid_input", message: "invalid_input: credits: unlucky" });

    expect((await meter.setBudget("s1", null)).budget).toBeNull();
    // What is not a whole number ≥ 0 never leaves the SDK.
    for (const bad of [-1, 1.5, Number.NaN])
      await expect(meter.setBudget("s1", bad)).rejects.toMatchObject({ code: "invalid_input" });
    expect(server.budgets).toHaveLength(3);
  });

  it("quote posts the items for the meter's account with the bearer token and checks the answer", async () => {
    server = await scriptedServer();
    meter = createCreditMeter({ url: server.url, token: async () => "tok" });
    await until(() => meter?.balance !== null, "balance");
    const items = [{ action: "animation" as const, model: "veo-3.1-fast", seconds: 6 }, { action: "script" as const }];
    expect(await meter.quote(items)).toEqual(QUOTE);
    expect(server.quotes).toEqual([{ authorization: "Bearer tok", body: { accountId: "a1", items } }]);
    await expect(meter.quote([])).rejects.toMatchObject({
      name: "CreditMeterRequestError",
      code: "invalid_input",
      message: "invalid_input: items: too small",
    });
  });

  it("a quote asked before the first balance waits for it, so it is priced on the account's plan", async () => {
    server = await scriptedServer();
    meter = createCreditMeter({ url: server.url, token: async () => "tok" });
    // Asked at once: without the account the server would price it on the free plan, not the account's.
    const items = [{ action: "script" as const }];
    expect(await meter.quote(items)).toEqual(QUOTE);
    expect(server.quotes).toEqual([{ authorization: "Bearer tok", body: { accountId: "a1", items } }]);
  });
});
