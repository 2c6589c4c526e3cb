import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, type RedisClientType } from "redis";
import { Server } from "socket.io";
import { io as connect, type Socket } from "socket.io-client";
import { inject } from "vitest";
import { connectRedisAdapter, type RedisAdapterHandle } from "../../server/src/realtime/redis-adapter.js";
import { waitFor } from "../support/redis-server.js";

interface Node {
  http: HttpServer;
  io: Server;
  adapter: RedisAdapterHandle;
  url: string;
}

/** A Socket.IO server on the real Redis adapter, as createRealtime builds it; every socket joins "room". */
async function startNode(redis: RedisClientType, prefix: string): Promise<Node> {
  const adapter = await connectRedisAdapter(redis, prefix, () => undefined);
  const http = createServer();
  const io = new Server(http, { adapter: adapter.adapter, transports: ["websocket"] });
  adapter.echoes.addAdapter(io.of("/").adapter, "/");
  io.on("connection", (socket) => {
    void (async () => {
      await socket.join("room");
      await adapter.barrier();
      socket.emit("joined");
    })();
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  return { http, io, adapter, url: `http://127.0.0.1:${(http.address() as AddressInfo).port}` };
}

async function joinedClient(url: string, got: string[]): Promise<Socket> {
  const socket = connect(url, { transports: ["websocket"], reconnection: false, forceNew: true });
  socket.on("news", (n: string) => got.push(n));
  await new Promise<void>((resolve) => socket.once("joined", () => resolve()));
  return socket;
}

// The sharded adapter hears its own broadcasts back from Redis; OwnEchoes drops them unparsed
// (docs/performance.md, "Push CPU per event"). Another node's broadcasts must still arrive.
describe("own broadcasts heard back from Redis", () => {
  let redis: RedisClientType;
  let a: Node;
  let b: Node;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    redis = createClient({ url: inject("redisUrl") });
    await redis.connect();
    const prefix = `t-${randomUUID()}`;
    a = await startNode(redis, prefix);
    b = await startNode(redis, prefix);
  });
  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    for (const n of [a, b]) {
      await n.io.close();
      await n.adapter.close();
    }
    await redis.close();
  });

  it("are dropped before parsing, while the other node's reach this node's sockets once", async () => {
    const onA: string[] = [];
    const onB: string[] = [];
    sockets.push(await joinedClient(a.url, onA), await joinedClient(b.url, onB));
    a.io.to("room").emit("news", "from a");
    await waitFor(() => a.adapter.echoes.dropped >= 1, 5000, "node a to hear its own broadcast back");
    b.io.to("room").emit("news", "from b");
    await waitFor(() => onA.length >= 2 && onB.length >= 2, 5000, "both broadcasts on both nodes");
    // Node a dropped its own echo, never b's (b's came to a's socket through Redis).
    expect(a.adapter.echoes.dropped).toBe(1);
    await waitFor(() => b.adapter.echoes.dropped >= 1, 5000, "node b to hear its own broadcast back");
    expect(onA).toEqual(["from a", "from b"]);
    expect(onB).toEqual(["from a", "from b"]);
  });
});
