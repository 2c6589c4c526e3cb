import fc from "fast-check";
import { io, type Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ledgerKeys as snapshotLedger } from "./ledger-keys.js";
import { cycleOf, deployment, startNode, type Deployment } from "../realtime/harness.js";
import { FUZZ_WIRE_RUNS } from "./malformed-events.js";

// Malformed and oversized Socket.IO messages and REST bodies: each gets a clear error (an ack
// `{ ok: false, error }`, a 400 naming the field, or, past the payload limit, the connection
// closed), the process keeps serving, and the ledger's keys are unchanged.
const ACCOUNT = "wire-acct";

describe("malformed wire input", () => {
  let d: Deployment;
  let node: Awaited<ReturnType<typeof startNode>>;
  let ops: string;
  const sockets: Socket[] = [];

  const connect = async (token: string): Promise<Socket> => {
    const socket = io(node.url, { transports: ["websocket"], auth: { token }, reconnection: false, forceNew: true });
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("connect_error", reject);
    });
    return socket;
  };
  const send = (method: string, path: string, body: string) =>
    fetch(`${node.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${ops}`, "content-type": "application/json" },
      body,
    });

  beforeAll(async () => {
    // The per-socket event limit has its own test (test/edges/socket-guards.test.ts); here every
    // message must reach the parser, so the bucket is made larger than the fuzz run.
    d = await deployment({
      CREDITMETER_REQUESTS_PER_IP_PER_MINUTE: "1000000",
      CREDITMETER_MAX_SOCKET_PAYLOAD_BYTES: "4096",
      CREDITMETER_SOCKET_EVENTS_PER_SECOND: "10000",
      CREDITMETER_SOCKET_EVENT_BURST: "10000",
    });
    node = await startNode(d);
    ops = await d.token("ops", "ops");
    expect((await send("PUT", `/v1/accounts/${ACCOUNT}`, JSON.stringify({ plan: "free" }))).status).toBe(200);
    expect((await send("POST", `/v1/accounts/${ACCOUNT}/cycles`, JSON.stringify(cycleOf("c1", 500)))).status).toBe(200);
  });
  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await node?.close();
    await d?.close();
  });

  it(`acks ${FUZZ_WIRE_RUNS} malformed panel messages with { ok: false, error }`, async () => {
    const socket = await connect(await d.token(ACCOUNT));
    const before = await snapshotLedger(d.redis, d.prefix);
    const junk = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.record({ sessionId: fc.oneof(fc.string(), fc.integer()), accountId: fc.string() }),
      fc.record({ level: fc.string() }),
      // session:budget's shape with a credits value that is never a whole number ≥ 0.
      fc.record({
        sessionId: fc.string(),
        credits: fc.oneof(fc.integer({ min: -1000, max: -1 }), fc.string(), fc.constant(1.5)),
      }),
    );
    const events = ["session:watch", "session:unwatch", "alert:dismiss", "session:budget"] as const;
    const samples = fc.sample(fc.tuple(fc.constantFrom(...events), junk), { numRuns: FUZZ_WIRE_RUNS, seed: 3 });
    let refused = 0;
    for (const [event, payload] of samples) {
      const ack = (await socket.timeout(5000).emitWithAck(event as "session:watch", payload as never)) as {
        ok: boolean;
        error?: { code: string; message: string };
      };
      // A random record can be valid by chance (a well-formed sessionId of the user's own account).
      if (ack.ok) continue;
      refused += 1;
      expect(ack.error?.code, JSON.stringify(payload)).toMatch(/^(invalid_input|forbidden)$/);
      expect(ack.error?.message).toMatch(/^(invalid_input|forbidden): ./);
    }
    expect(refused).toBeGreaterThan(FUZZ_WIRE_RUNS * 0.8);
    // Unknown events, no ack, binary junk: ignored, and the connection stays usable.
    socket.emit("no:such:event" as never, { a: 1 } as never);
    socket.emit("session:watch" as never, Buffer.from([1, 2, 3]) as never);
    socket.emit("session:watch" as never);
    const ok = (await socket.timeout(5000).emitWithAck("session:watch", { sessionId: "fine" })) as { ok: boolean };
    expect(ok.ok).toBe(true);
    expect(await snapshotLedger(d.redis, d.prefix)).toEqual(before);
  }, 300_000);

  it("closes a connection that sends more than the payload limit; the server keeps serving others", async () => {
    const big = await connect(await d.token(ACCOUNT));
    const closed = new Promise<string>((resolve) => big.once("disconnect", resolve));
    big.emit("session:watch", { sessionId: "x".repeat(10_000) });
    expect(await closed).toMatch(/transport (close|error)/);
    const other = await connect(await d.token(ACCOUNT));
    const ack = (await other.timeout(5000).emitWithAck("session:watch", { sessionId: "s1" })) as { ok: boolean };
    expect(ack.ok).toBe(true);
  }, 300_000);

  it(`answers ${FUZZ_WIRE_RUNS} malformed REST bodies with 400 naming the field, oversized ones with 413`, async () => {
    const before = await snapshotLedger(d.redis, d.prefix);
    const routes = [
      ["PUT", `/v1/accounts/${ACCOUNT}`],
      ["POST", `/v1/accounts/${ACCOUNT}/cycles`],
      ["POST", `/v1/accounts/${ACCOUNT}/packs`],
      ["POST", `/v1/accounts/${ACCOUNT}/adjustments`],
    ] as const;
    const body = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
      fc.string({ maxLength: 40 }),
      fc
        .record({
          packId: fc.oneof(fc.string(), fc.integer()),
          credits: fc.oneof(fc.double(), fc.string(), fc.integer({ min: -1e12, max: 0 })),
        })
        .map((v) => JSON.stringify(v)),
      fc
        .record({ plan: fc.string(), lowBalanceThresholds: fc.jsonValue({ maxDepth: 2 }) })
        .map((v) => JSON.stringify(v)),
    );
    const samples = fc.sample(fc.tuple(fc.constantFrom(...routes), body), { numRuns: FUZZ_WIRE_RUNS, seed: 5 });
    for (const [[method, path], raw] of samples) {
      const res = await send(method, path, raw);
      const answer = (await res.json()) as { error?: { code: string; details?: { field?: string } } };
      expect(res.status, `${method} ${path} ${raw}`).toBe(400);
      expect(answer.error?.code).toBe("invalid_input");
      expect(answer.error?.details?.field, JSON.stringify(answer)).toBeTruthy();
    }
    const huge = await send(
      "POST",
      `/v1/accounts/${ACCOUNT}/packs`,
      JSON.stringify({ packId: "p", credits: 1, pad: "x".repeat(200_000) }),
    );
    expect(huge.status).toBe(413);
    expect(await snapshotLedger(d.redis, d.prefix)).toEqual(before);
    expect((await fetch(`${node.url}/healthz`)).status).toBe(200);
  }, 300_000);
});
