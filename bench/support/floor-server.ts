// The latency floor for scenario 2: the same BullMQ worker settings and Socket.IO server as the
// metering server, doing the least the contract asks of an event: one `session:update` to the
// room of the panels watching its session. No ledger, no adapter, no balance push, no /ops, no
// metrics. What the bench measures through it is what BullMQ and Socket.IO cost on this machine
// under the same offered load and the same 2,000 panel sockets (docs/performance.md).
import { createServer } from "node:http";
import { Worker } from "bullmq";
import { createClient, type RedisClientType } from "redis";
import { Server } from "socket.io";
import { z } from "zod";
import { WorkerEnv, consumerWorkerOptions } from "./consumer-worker-options.js";

const env = WorkerEnv.extend({ PORT: z.coerce.number().int().min(1) }).parse(process.env);

const JobData = z.object({ eventId: z.string(), accountId: z.string(), sessionId: z.string() });
const Watch = z.object({ sessionId: z.string() });
const Claims = z.object({ sub: z.string() });

/** The account a panel's token names; the floor trusts it unverified (it guards nothing). */
function accountOf(token: unknown): string | null {
  if (typeof token !== "string") return null;
  const payload = token.split(".")[1];
  if (!payload) return null;
  const claims = Claims.safeParse(JSON.parse(Buffer.from(payload, "base64url").toString("utf8")));
  return claims.success ? claims.data.sub : null;
}

const http = createServer();
const io = new Server(http, { transports: ["polling", "websocket"] });
io.on("connection", (socket) => {
  const account = accountOf(socket.handshake.auth.token);
  socket.on("session:watch", (raw: unknown, ack: unknown) => {
    const watch = Watch.safeParse(raw);
    if (!account || !watch.success || typeof ack !== "function") return;
    void socket.join(`${account}/${watch.data.sessionId}`);
    ack({ ok: true, session: { used: 0, seq: 0 } });
  });
});

// Per session: what a real session update carries that changes (used, seq).
const sessions = new Map<string, { used: number; seq: number }>();
const redis: RedisClientType = createClient({ url: env.REDIS_URL });
redis.on("error", () => undefined);
await redis.connect();
const worker = new Worker(
  env.QUEUE,
  async (job) => {
    const e = JobData.parse(job.data);
    const room = `${e.accountId}/${e.sessionId}`;
    const s = sessions.get(room) ?? { used: 0, seq: 0 };
    s.used += 1;
    s.seq += 1;
    sessions.set(room, s);
    io.to(room).emit("session:update", {
      sessionId: e.sessionId,
      used: s.used,
      seq: s.seq,
      last: { eventId: e.eventId },
    });
    return { status: "floor" };
  },
  consumerWorkerOptions(redis, env.QUEUE_PREFIX, env.CONCURRENCY),
);
await worker.waitUntilReady();
http.listen(env.PORT, "127.0.0.1");
process.on("SIGTERM", () => {
  void worker
    .close()
    .then(() => redis.close())
    .then(() => process.exit(0));
});
