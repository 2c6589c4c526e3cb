import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import { afterEach, describe, expect, it } from "vitest";
import { createDrainGate } from "./drain-gate.js";

describe("drain gate", () => {
  let server: Server | null = null;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = null;
  });

  it("refuses requests after close with 503 unavailable, and close waits for the admitted ones", async () => {
    const gate = createDrainGate();
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let entered: () => void = () => undefined;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const app = express();
    app.use(gate.middleware);
    app.get("/slow", async (_req, res) => {
      entered();
      await held;
      res.json({ done: true });
    });
    app.get("/fast", (_req, res) => void res.json({ ok: true }));
    server = createServer(app);
    const listening = server;
    await new Promise<void>((resolve) => listening.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;

    expect((await fetch(`${base}/fast`)).status).toBe(200);
    const slow = fetch(`${base}/slow`);
    await inside;
    expect(gate.inFlight()).toBe(1);

    let closed = false;
    const closing = gate.close().then(() => (closed = true));
    const refused = await fetch(`${base}/fast`);
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("unavailable");
    expect(closed).toBe(false);

    release();
    expect((await slow).status).toBe(200);
    await closing;
    expect(gate.inFlight()).toBe(0);
  });

  it("waits for a handler whose client hung up until the handler has answered", async () => {
    const gate = createDrainGate();
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let entered: () => void = () => undefined;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    let hungUp: () => void = () => undefined;
    const gone = new Promise<void>((resolve) => (hungUp = resolve));
    const app = express();
    app.use(gate.middleware);
    // A grant awaiting its ledger script: it still changes the ledger after its client has gone.
    app.post("/grant", async (_req, res) => {
      res.on("close", () => hungUp());
      entered();
      await held;
      res.json({ applied: true });
    });
    server = createServer(app);
    const listening = server;
    await new Promise<void>((resolve) => listening.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;

    const abort = new AbortController();
    const grant = fetch(`${base}/grant`, { method: "POST", signal: abort.signal }).catch(() => "aborted");
    await inside;
    let closed = false;
    const closing = gate.close().then(() => (closed = true));
    abort.abort();
    expect(await grant).toBe("aborted");
    await gone;
    // The connection is gone, the handler is not: the stop must not close what it is about to use.
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toBe(false);
    expect(gate.inFlight()).toBe(1);

    release();
    await closing;
    expect(gate.inFlight()).toBe(0);
  });

  it("closes at once when nothing is in flight", async () => {
    const gate = createDrainGate();
    await expect(gate.close()).resolves.toBeUndefined();
  });
});
