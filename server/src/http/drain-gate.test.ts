import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import express, { type Express } from "express";
import { afterEach, describe, expect, it } from "vitest";
import { createDrainGate } from "./drain-gate.js";

/** A promise and the function that resolves it. */
function signal(): { done: Promise<void>; fire: () => void } {
  let fire: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (fire = resolve));
  return { done, fire };
}

describe("drain gate", () => {
  let server: Server | null = null;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = null;
  });

  /** Serves `app` on a loopback port; its base URL. */
  async function serve(app: Express): Promise<string> {
    const listening = createServer(app);
    server = listening;
    await new Promise<void>((resolve) => listening.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;
  }

  it("refuses requests after close with 503 unavailable, and close waits for the admitted ones", async () => {
    const gate = createDrainGate();
    const held = signal();
    const inside = signal();
    const app = express();
    app.use(gate.middleware);
    app.get("/slow", async (_req, res) => {
      inside.fire();
      await held.done;
      res.json({ done: true });
    });
    app.get("/fast", (_req, res) => void res.json({ ok: true }));
    const base = await serve(app);

    expect((await fetch(`${base}/fast`)).status).toBe(200);
    const slow = fetch(`${base}/slow`);
    await inside.done;
    expect(gate.inFlight()).toBe(1);

    let closed = false;
    const closing = gate.close().then(() => (closed = true));
    const refused = await fetch(`${base}/fast`);
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("unavailable");
    expect(closed).toBe(false);

    held.fire();
    expect((await slow).status).toBe(200);
    await closing;
    expect(gate.inFlight()).toBe(0);
  });

  it("waits for a handler whose client hung up until the handler has answered", async () => {
    const gate = createDrainGate();
    const held = signal();
    const inside = signal();
    const gone = signal();
    const app = express();
    app.use(gate.middleware);
    // A grant awaiting its ledger script: it still changes the ledger after its client has gone.
    app.post("/grant", async (_req, res) => {
      res.on("close", gone.fire);
      inside.fire();
      await held.done;
      res.json({ applied: true });
    });
    const base = await serve(app);

    const abort = new AbortController();
    const grant = fetch(`${base}/grant`, { method: "POST", signal: abort.signal }).catch(() => "aborted");
    await inside.done;
    let closed = false;
    const closing = gate.close().then(() => (closed = true));
    abort.abort();
    expect(await grant).toBe("aborted");
    await gone.done;
    // The connection is gone, the handler is not: the stop must not close what it is about to use.
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toBe(false);
    expect(gate.inFlight()).toBe(1);

    held.fire();
    await closing;
    expect(gate.inFlight()).toBe(0);
  });

  it("lets go of a read whose client hung up mid-body, which nothing will ever end", async () => {
    const gate = createDrainGate();
    const gone = signal();
    const app = express();
    app.use(gate.middleware);
    // As express.static and res.sendFile do: a stream piped into the response, destroyed (never
    // ended) when the client goes. A page download cut short long before a stop must not hold it.
    app.get("/asset", (_req, res) => {
      const body = new Readable({ read: () => undefined });
      body.push("x".repeat(1024));
      res.on("close", () => {
        body.destroy();
        gone.fire();
      });
      body.pipe(res);
    });
    const base = await serve(app);

    const abort = new AbortController();
    const got = await fetch(`${base}/asset`, { signal: abort.signal });
    const reader = got.body?.getReader();
    await reader?.read();
    abort.abort();
    await gone.done;
    await new Promise((resolve) => setImmediate(resolve));
    expect(gate.inFlight()).toBe(0);
    await gate.close();
  });

  it("closes at once when nothing is in flight", async () => {
    const gate = createDrainGate();
    await expect(gate.close()).resolves.toBeUndefined();
  });
});
