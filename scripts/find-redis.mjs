// Finds a Redis for `npm start`: the one at REDIS_URL if it answers, else a private redis-server (CONTRACT §8).
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createServer, isIP, connect as netConnect } from "node:net";
import { dirname, join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { fileURLToPath } from "node:url";

/** RESP-encodes one command, so AUTH can carry any password byte for byte. */
function resp(args) {
  return `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("");
}

/**
 * Asks `url` for PING (after AUTH when the URL carries credentials).
 * Resolves "pong", the Redis error line it answered with (e.g. "-NOAUTH …"), or null when nothing answers.
 */
export function probeRedis(url, timeoutMs = 1500) {
  const u = new URL(url);
  const tls = u.protocol === "rediss:";
  const host = (u.hostname || "127.0.0.1").replace(/^\[(.*)\]$/, "$1");
  const port = Number(u.port || 6379);
  const user = decodeURIComponent(u.username);
  const pass = decodeURIComponent(u.password);
  const auth = pass ? resp(user ? ["AUTH", user, pass] : ["AUTH", pass]) : "";
  return new Promise((resolve) => {
    let buffered = "";
    const done = (answer) => {
      socket.destroy();
      resolve(answer);
    };
    const socket = tls
      ? tlsConnect({ host, port, ...(isIP(host) ? {} : { servername: host }) })
      : netConnect({ host, port });
    socket.setTimeout(timeoutMs, () => done(null));
    socket.on("error", () => done(null));
    socket.on(tls ? "secureConnect" : "connect", () => socket.write(`${auth}PING\r\n`));
    socket.on("data", (chunk) => {
      buffered += chunk.toString("latin1");
      const lines = buffered.split("\r\n").slice(0, -1);
      const failure = lines.find((l) => l.startsWith("-"));
      if (failure) done(failure);
      else if (lines.includes("+PONG")) done("pong");
    });
  });
}

/** True when a `redis-server` binary is on PATH. */
export function redisServerInstalled() {
  return spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0;
}

/** A free loopback TCP port, as the kernel hands it out. */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts a persistent (appendonly) redis-server with its data in `dataDir`, on a free loopback port,
 * as a child of this process (scripts/redis-keeper.mjs runs it in a process group of its own).
 */
export async function startPrivateRedis(dataDir, timeoutMs = 10_000) {
  mkdirSync(dataDir, { recursive: true });
  const port = await freePort();
  const logfile = join(dataDir, "redis.log");
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--dir",
    dataDir,
    "--appendonly",
    "yes",
    // Idempotency generations of busy accounts are big hashes that expire whole: free them off the main thread.
    "--lazyfree-lazy-expire",
    "yes",
  ];
  const proc = spawn("redis-server", [...args, "--logfile", logfile], { stdio: "ignore" });
  const url = `redis://127.0.0.1:${port}`;
  let exited = false;
  proc.on("exit", () => (exited = true));
  const stop = () =>
    new Promise((resolve) => {
      if (exited) return resolve();
      const force = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
      proc.once("exit", () => {
        clearTimeout(force);
        resolve();
      });
      proc.kill("SIGTERM"); // redis-server flushes the append-only file and exits
    });
  const deadline = Date.now() + timeoutMs;
  while ((await probeRedis(url, 500)) !== "pong") {
    if (exited || Date.now() > deadline) {
      await stop();
      const log = existsSync(logfile) ? readFileSync(logfile, "utf8").trim().split("\n").slice(-5).join("\n") : "";
      throw new Error(`the private redis-server on port ${port} did not start (log ${logfile}):\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url, port, pid: proc.pid, stop };
}

/** `url` with its password masked, fit for a log line. */
function redact(url) {
  const u = new URL(url);
  if (u.password) u.password = "***";
  return u.toString();
}

/** The private redis-server another `npm start` in this folder runs, when it is alive and answering. */
async function runningPrivateRedis(dataDir) {
  try {
    const { pid, port } = JSON.parse(readFileSync(join(dataDir, "running.json"), "utf8"));
    process.kill(pid, 0);
    const url = `redis://127.0.0.1:${port}`;
    return (await probeRedis(url)) === "pong" ? { url, pid } : null;
  } catch {
    return null; // no record, a dead process, or a port that no longer answers
  }
}

/**
 * Resolves the Redis the server should use: `url` when anything answers there; else the private
 * redis-server already serving `dataDir`; else a new one (with `stop`). Throws with advice when there is none.
 */
export async function findRedis(url, dataDir, log, { production = false } = {}) {
  if (!URL.canParse(url) || !/^rediss?:$/.test(new URL(url).protocol)) {
    throw new Error(`REDIS_URL must be a redis:// or rediss:// URL, got "${url}"`);
  }
  const answer = await probeRedis(url);
  const shown = redact(url);
  if (answer === "pong") {
    log(`using Redis at ${shown}`);
    return { url };
  }
  if (answer !== null) {
    log(`using Redis at ${shown} (it answered PING with "${answer}"; check the credentials in REDIS_URL)`);
    return { url };
  }
  if (production) {
    // CONTRACT §8 v1.1: a private Redis in production could leave two processes on two different ledgers.
    throw new Error(
      `nothing answers at ${shown} (REDIS_URL) and NODE_ENV=production: a production server never starts\n` +
        "a private Redis. Start Redis or point REDIS_URL at the one every process of this deployment uses.",
    );
  }
  const shared = await runningPrivateRedis(dataDir);
  if (shared) {
    log(`nothing answers at ${shown}: using the private Redis at ${shared.url} that another npm start runs`);
    log(`(pid ${shared.pid}, data in ${dataDir}); it stops when that npm start does`);
    return { url: shared.url };
  }
  if (!redisServerInstalled()) {
    throw new Error(
      `nothing answers at ${shown} and redis-server is not installed.\n` +
        "Install it (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis),\n" +
        "or point REDIS_URL at a running Redis, e.g. REDIS_URL=redis://127.0.0.1:6379 npm start",
    );
  }
  const redis = await startKept(dataDir);
  log(`nothing answers at ${shown}: started a private redis-server at ${redis.url} (pid ${redis.pid}),`);
  log(`data in ${dataDir} (append-only, kept across runs); it stops when the server does`);
  return redis;
}

/**
 * Starts a private redis-server through its keeper (a detached process, see redis-keeper.mjs).
 * `watch(pid)` names the server the keeper waits for; `stop()` closes the channel and waits for the
 * keeper to stop Redis and leave. If this process dies instead, the channel closes all the same.
 */
function startKept(dataDir) {
  const keeperPath = join(dirname(fileURLToPath(import.meta.url)), "redis-keeper.mjs");
  const keeper = spawn(process.execPath, [keeperPath, dataDir], {
    detached: true,
    stdio: ["ignore", "ignore", "ignore", "ipc"],
  });
  const gone = new Promise((resolve) => keeper.once("exit", resolve));
  return new Promise((resolve, reject) => {
    keeper.once("error", reject);
    void gone.then(() => reject(new Error("the private redis-server's keeper exited before Redis answered")));
    keeper.once("message", (message) => {
      if (typeof message?.url !== "string")
        return reject(new Error(String(message?.error ?? "the private redis-server did not start")));
      resolve({
        url: message.url,
        pid: message.pid,
        watch: (pid) => keeper.connected && keeper.send({ watch: pid }),
        stop: async () => {
          if (keeper.connected) keeper.disconnect();
          await gone;
        },
      });
    });
  });
}
