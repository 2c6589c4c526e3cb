import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { createClient } from "redis";

/** A free TCP port on loopback, as the kernel hands it out. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

/** Polls `probe` until it resolves true or the deadline passes. */
export async function waitFor(probe: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await probe()) return;
    } catch {
      // not yet: keep polling until the deadline
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface TestRedis {
  url: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** The pid of the redis-server answering on `url`, or null while none answers. */
async function serverPid(url: string): Promise<number | null> {
  const c = createClient({ url, socket: { reconnectStrategy: false } });
  c.on("error", () => undefined);
  try {
    await c.connect();
    const pid = /process_id:(\d+)/.exec(await c.info("server"))?.[1];
    return pid === undefined ? null : Number(pid);
  } catch {
    return null;
  } finally {
    if (c.isOpen) await c.close();
  }
}

/**
 * Spawns redis-server on `port` and waits until it answers as itself (its pid): with two test
 * files at once, another file's server may take the port between freePort and the bind, and
 * then a PING alone would be answered by that server (which this file would then flush). false
 * when ours exited first (the port was taken).
 */
async function spawnOn(port: number, extraArgs: string[]): Promise<{ proc: ChildProcess; ok: boolean }> {
  const proc = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", ...extraArgs],
    { stdio: "ignore" },
  );
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) return { proc, ok: false };
    if ((await serverPid(url)) === proc.pid) return { proc, ok: true };
    if (Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(`timed out after 10000 ms waiting for redis-server on port ${port}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Starts a private redis-server on a loopback port (free unless given); not persistent unless args say so. */
export async function startRedis(extraArgs: string[] = [], fixedPort?: number): Promise<TestRedis> {
  let port = fixedPort ?? (await freePort());
  let started = await spawnOn(port, extraArgs);
  // A free port lost to another process between the pick and the bind: pick again (a given port is the caller's to free).
  for (let attempt = 1; !started.ok && fixedPort === undefined && attempt < 5; attempt++) {
    port = await freePort();
    started = await spawnOn(port, extraArgs);
  }
  if (!started.ok) throw new Error(`redis-server on port ${port} exited before it answered (is the port taken?)`);
  const proc = started.proc;
  const url = `redis://127.0.0.1:${port}`;
  return {
    url,
    port,
    process: proc,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once("exit", () => resolve());
        proc.kill("SIGTERM");
      }),
  };
}
