import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { Queue } from "bullmq";
import { createClient, type RedisClientType } from "redis";
import { DEFAULT_PRICE_BOOK } from "@creditmeter/shared";
import { RedisLedger, bullmqConnection } from "@creditmeter/server";
import { mintToken } from "../../server/src/auth/index.js";
import { freePort, startRedis, waitFor, type TestRedis } from "../../test/support/redis-server.js";
import { spawnServer, type ServerProcess } from "../../test/support/server-process.js";

export const SECRET = "bench-secret-0123456789abcdef";
export const QUEUE_PREFIX = "{creditmeter}";

/** One server process of a deployment and how to reach it. */
export interface Node {
  role: "all" | "http" | "consumer";
  server: ServerProcess;
  /** null for a consumer-only process (no HTTP). */
  url: string | null;
}

/** A scenario's world: its own redis-server, its key prefix and queue, and the processes on them. */
export interface Deployment {
  redis: TestRedis;
  client: RedisClientType;
  ledger: RedisLedger;
  queue: Queue;
  env: Record<string, string>;
  nodes: Node[];
  start(role: Node["role"], extra?: Record<string, string>): Promise<Node>;
  token(accountId: string): Promise<string>;
  close(): Promise<void>;
}

/** `BENCH_SERVER_<VAR>=value` in the bench's environment sets `<VAR>` for every server process (experiments). */
function serverEnvOverrides(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (k.startsWith("BENCH_SERVER_") && v !== undefined) out[k.slice("BENCH_SERVER_".length)] = v;
  return out;
}

/** The ledger the bench seeds and checks with: the server's defaults, by Functions unless `functions` is false. */
export function benchLedger(client: RedisClientType, namespace: string, functions = true): RedisLedger {
  return new RedisLedger({
    redis: client,
    namespace,
    priceBook: DEFAULT_PRICE_BOOK,
    holdTtlSeconds: 3600,
    idempotencyRetentionSeconds: 30 * 86400,
    ledgerRetentionDays: 400,
    functions,
  });
}

/**
 * Starts a redis-server and opens the queue and a ledger on it (for seeding and checking). Limits
 * meant for the open internet are raised: every bench client comes from one loopback address.
 */
export async function deploy(extra: Record<string, string> = {}): Promise<Deployment> {
  const redis = await startRedis();
  const client: RedisClientType = createClient({ url: redis.url });
  client.on("error", () => undefined);
  await client.connect();
  const namespace = `bench-${randomUUID().slice(0, 8)}`;
  const queueName = `bench-${randomUUID().slice(0, 8)}`;
  const env: Record<string, string> = {
    HOST: "127.0.0.1",
    REDIS_URL: redis.url,
    CREDITMETER_KEY_PREFIX: namespace,
    CREDITMETER_QUEUE: queueName,
    CREDITMETER_AUTH_SECRET: SECRET,
    CREDITMETER_METRICS_PUBLIC: "true",
    CREDITMETER_CONNECTIONS_PER_IP_PER_MINUTE: "10000000",
    CREDITMETER_REQUESTS_PER_IP_PER_MINUTE: "10000000",
    LOG_LEVEL: "warn",
    ...extra,
    ...serverEnvOverrides(),
  };
  const ledger = benchLedger(client, namespace);
  const queue = new Queue(queueName, { connection: bullmqConnection(client, () => undefined), prefix: QUEUE_PREFIX });
  const nodes: Node[] = [];
  const dep: Deployment = {
    redis,
    client,
    ledger,
    queue,
    env,
    nodes,
    async start(role, more = {}) {
      const port = role === "consumer" ? 0 : await freePort();
      const server = spawnServer({
        ...env,
        PORT: String(port),
        CREDITMETER_HTTP: role === "consumer" ? "false" : "true",
        CREDITMETER_CONSUMER: role === "http" ? "false" : "true",
        ...more,
      });
      const url = role === "consumer" ? null : `http://127.0.0.1:${port}`;
      const node: Node = { role, server, url };
      nodes.push(node);
      if (url) {
        await waitFor(
          async () => (await fetch(`${url}/readyz`)).ok,
          30_000,
          `server ${role} on ${url} (stderr: ${server.stderr().slice(-500)})`,
        );
      } else {
        await waitFor(
          async () => (await queue.getWorkers()).length >= nodes.filter((n) => n.role !== "http").length,
          30_000,
          "consumer-only process",
        );
      }
      return node;
    },
    token: (accountId) => mintToken(SECRET, { sub: accountId, role: "user", ttlSeconds: 3600 }),
    async close() {
      await Promise.all(nodes.map((n) => n.server.kill("SIGTERM")));
      await queue.close();
      await client.close();
      await redis.stop();
    },
  };
  return dep;
}

/** Creates `count` accounts (plan `pro`, a cycle of plenty of credits) so no event is denied. */
export async function seedAccounts(dep: Deployment, count: number, tag = "acct"): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => `${tag}-${i}`);
  const start = new Date(Date.now() - 3_600_000).toISOString();
  const end = new Date(Date.now() + 30 * 86_400_000).toISOString();
  for (let i = 0; i < ids.length; i += 100) {
    await Promise.all(
      ids.slice(i, i + 100).map(async (id) => {
        await dep.ledger.putAccount(id, { plan: "pro" });
        await dep.ledger.startCycle(id, { cycleId: "c1", credits: 100_000_000, start, end });
      }),
    );
  }
  return ids;
}

/** Resident memory of a process, from /proc (Linux). */
export function rssBytes(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match?.[1] ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** CPU time (user+system, ms) a process has used so far, from /proc (Linux). */
export function cpuMs(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return null;
  }
}

/** A Prometheus text scrape as `name{labels}` → value. */
export async function scrape(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line.startsWith("#") || !line.trim()) continue;
    const at = line.lastIndexOf(" ");
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

/** Sum of every series whose name (before labels) is `name`. */
export function metricSum(m: Map<string, number>, name: string): number {
  let total = 0;
  for (const [key, value] of m) if (key === name || key.startsWith(`${name}{`)) total += value;
  return total;
}

/** Waits until the queue has nothing waiting, active, paused or delayed; returns when that was seen. */
export async function waitDrained(queue: Queue, timeoutMs: number, pollMs = 10): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const c = await queue.getJobCounts("wait", "active", "delayed", "prioritized", "waiting-children");
    if (Object.values(c).every((n) => n === 0)) return performance.now();
    if (Date.now() > deadline) throw new Error(`queue not drained after ${timeoutMs} ms: ${JSON.stringify(c)}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
