import { randomUUID } from "node:crypto";
import { Queue, createNodeRedisClient } from "bullmq";
import { pino } from "pino";
import { io, type Socket } from "socket.io-client";
import { afterAll, beforeAll, inject } from "vitest";
import { createClient, type RedisClientType } from "redis";
import type { StageEvent } from "@creditmeter/shared";
import { loadConfig } from "../../server/src/config/config.js";
import { startServer, type RunningServer } from "../../server/src/app/compose.js";
import { mintToken } from "../../server/src/auth/index.js";
import { enqueueEvents } from "../support/queue.js";

export const SECRET = "realtime-test-secret-0123456789";

/** One test's isolated deployment: its own key prefix and queue on the run's Redis. */
export interface Deployment {
  env: Record<string, string>;
  prefix: string;
  queueName: string;
  queue: Queue;
  redis: RedisClientType;
  token(sub: string, role?: "user" | "ops" | "worker"): Promise<string>;
  /** Adds stage events as jobs the way workers do (job name = type, job id = eventId). */
  enqueue(events: StageEvent[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * The environment a server of this deployment starts with (PORT 0 unless given), on the run's
 * Redis unless `extra.REDIS_URL` names another (a test that reads Redis's server-wide counters).
 */
export async function deployment(extra: Record<string, string> = {}): Promise<Deployment> {
  const prefix = `t-${randomUUID()}`;
  const queueName = `q-${randomUUID()}`;
  const redisUrl = extra.REDIS_URL ?? inject("redisUrl");
  const env: Record<string, string> = {
    PORT: "0",
    HOST: "127.0.0.1",
    REDIS_URL: redisUrl,
    CREDITMETER_KEY_PREFIX: prefix,
    CREDITMETER_QUEUE: queueName,
    CREDITMETER_AUTH_SECRET: SECRET,
    CREDITMETER_SWEEP_INTERVAL_MS: "1000",
    LOG_LEVEL: "silent",
    ...extra,
  };
  const redis: RedisClientType = createClient({ url: redisUrl });
  redis.on("error", () => undefined);
  await redis.connect();
  // BullMQ does not close a client it was handed: close() below does, so none outlives the test.
  const queueClient = redis.duplicate();
  queueClient.on("error", () => undefined);
  const queue = new Queue(queueName, {
    connection: createNodeRedisClient(queueClient),
    prefix: loadConfig(env).queuePrefix,
  });
  return {
    env,
    prefix,
    queueName,
    queue,
    redis,
    token: (sub, role = "user") => mintToken(SECRET, { sub, role, ttlSeconds: 600 }),
    async enqueue(events) {
      await enqueueEvents(queue, events);
    },
    async close() {
      await queue.obliterate({ force: true });
      await queue.close();
      if (queueClient.isOpen) await queueClient.close();
      await redis.close();
    },
  };
}

/** Starts an in-process server of the deployment (HTTP + Socket.IO + consumer unless overridden). */
export async function startNode(
  d: Deployment,
  extra: Record<string, string> = {},
): Promise<RunningServer & { url: string }> {
  const server = await startServer(loadConfig({ ...d.env, ...extra }), pino({ level: "silent" }));
  return Object.assign(server, { url: `http://127.0.0.1:${server.port}` });
}

/** A started node of a fresh deployment, as `nodeWithAccount` hands it to the tests of a describe. */
export interface AccountNode {
  readonly d: Deployment;
  readonly node: Awaited<ReturnType<typeof startNode>>;
}

/**
 * Registers, for the enclosing describe, a fresh deployment with one node (`env` added to its
 * environment) and `acct` on the free plan with a cycle of `credits`; closed after the describe.
 */
export function nodeWithAccount(acct: string, credits: number, env: Record<string, string> = {}): AccountNode {
  let started: AccountNode | null = null;
  beforeAll(async () => {
    const d = await deployment(env);
    const node = await startNode(d);
    started = { d, node };
    await node.ledger.putAccount(acct, { plan: "free" });
    await node.ledger.startCycle(acct, cycleOf("c1", credits));
  });
  afterAll(async () => {
    await started?.node.close();
    await started?.d.close();
  });
  const get = (): AccountNode => {
    if (!started) throw new Error("nodeWithAccount: used outside its describe's tests");
    return started;
  };
  return {
    get d() {
      return get().d;
    },
    get node() {
      return get().node;
    },
  };
}

let eventCounter = 0;

/** A `stage.completed` event (charged in full without a hold). */
export function completed(
  accountId: string,
  sessionId: string,
  action: StageEvent["action"],
  fields: Partial<StageEvent> = {},
): StageEvent {
  eventCounter += 1;
  return {
    v: 1,
    eventId: `ev-${randomUUID()}`,
    type: "stage.completed",
    accountId,
    sessionId,
    stepId: `step-${eventCounter}-${randomUUID().slice(0, 8)}`,
    action,
    occurredAt: new Date().toISOString(),
    ...fields,
  };
}

/** A cycle body for `credits`, current now. */
export function cycleOf(
  cycleId: string,
  credits: number,
): { cycleId: string; credits: number; start: string; end: string } {
  return {
    cycleId,
    credits,
    start: new Date(Date.now() - 3_600_000).toISOString(),
    end: new Date(Date.now() + 30 * 86_400_000).toISOString(),
  };
}

/** Every packet a raw client received, in order, with its arrival time (Date.now()). */
export interface Recorder {
  socket: Socket;
  packets: { event: string; args: unknown[]; at: number }[];
}

/** A raw socket.io-client that records every server event it receives. */
export function recorder(url: string, auth: Record<string, string>): Recorder {
  const socket = io(url, { transports: ["websocket"], auth, reconnection: false, forceNew: true });
  const packets: Recorder["packets"] = [];
  socket.onAny((event: string, ...args: unknown[]) => packets.push({ event, args, at: Date.now() }));
  return { socket, packets };
}

/** The connect_error message a handshake ends with, or "connected". */
export function handshakeResult(
  url: string,
  auth: Record<string, unknown>,
  extraHeaders: Record<string, string> = {},
): Promise<string> {
  const socket = io(url, { transports: ["websocket"], auth, extraHeaders, reconnection: false, forceNew: true });
  return new Promise((resolve) => {
    socket.on("connect", () => {
      socket.disconnect();
      resolve("connected");
    });
    socket.on("connect_error", (err) => {
      socket.disconnect();
      resolve(err.message);
    });
  });
}
