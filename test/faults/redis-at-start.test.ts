import { afterEach, describe, expect, it } from "vitest";
import { freePort, startRedis, type TestRedis } from "../support/redis-server.js";
import { spawnLoopbackServer, type LoopbackServer, type ServerProcess } from "../support/server-process.js";

// CONTRACT §8 v1.1: in production a Redis that does not answer is an error. `npm start` refuses
// before spawning (scripts/find-redis.mjs); this is the server started directly (server/src/main.ts,
// as a process manager would run server/dist/main.js): it must exit non-zero within
// CREDITMETER_REDIS_CONNECT_TIMEOUT_MS naming REDIS_URL, while a development server keeps waiting.
const TIMEOUT_MS = 1500;
// Loading the sources through tsx takes seconds on a loaded machine: the deadline allows for it.
const EXIT_DEADLINE_MS = TIMEOUT_MS + 40_000;
const SECRET = "redis-at-start-secret-0123456789";

const started: ServerProcess[] = [];
const redises: TestRedis[] = [];
afterEach(async () => {
  for (const s of started.splice(0)) await s.kill("SIGKILL");
  for (const r of redises.splice(0)) {
    r.process.kill("SIGCONT");
    await r.stop();
  }
});

async function start(env: Record<string, string>): Promise<LoopbackServer> {
  const s = await spawnLoopbackServer({
    CREDITMETER_AUTH_SECRET: SECRET,
    CREDITMETER_REDIS_CONNECT_TIMEOUT_MS: String(TIMEOUT_MS),
    ...env,
  });
  started.push(s);
  return s;
}

/** The exit code, or "running" if the process is still there after `ms`. */
async function exitWithin(s: ServerProcess, ms: number): Promise<number | string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<string>((resolve) => (timer = setTimeout(() => resolve("running"), ms)));
  try {
    return await Promise.race([s.exited, late]);
  } finally {
    clearTimeout(timer);
  }
}

describe("a Redis that does not answer at start", () => {
  it("production exits 1 naming REDIS_URL (nothing listening); development keeps waiting and starts once Redis is there", async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    const dev = await start({ NODE_ENV: "development", REDIS_URL: url });
    const prod = await start({ NODE_ENV: "production", REDIS_URL: url });
    expect(await exitWithin(prod, EXIT_DEADLINE_MS)).toBe(1);
    expect(prod.stderr()).toContain(`REDIS_URL (${url})`);
    expect(prod.stderr()).toContain(`did not answer within ${TIMEOUT_MS} ms (CREDITMETER_REDIS_CONNECT_TIMEOUT_MS)`);
    // The development server, started at the same time, is still waiting; it starts when Redis comes.
    expect(dev.proc.exitCode).toBeNull();
    redises.push(await startRedis([], port));
    await dev.ready(40_000); // the development server starts once Redis is there
  }, 120_000);

  it("production exits 1 when Redis accepts the connection but answers nothing (frozen)", async () => {
    const redis = await startRedis();
    redises.push(redis);
    redis.process.kill("SIGSTOP");
    const prod = await start({ NODE_ENV: "production", REDIS_URL: redis.url });
    expect(await exitWithin(prod, EXIT_DEADLINE_MS)).toBe(1);
    expect(prod.stderr()).toContain(`REDIS_URL (${redis.url})`);
  }, 120_000);
});
