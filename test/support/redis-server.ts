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

/** Starts a private redis-server on a loopback port (free unless given); not persistent unless args say so. */
export async function startRedis(extraArgs: string[] = [], fixedPort?: number): Promise<TestRedis> {
  const port = fixedPort ?? (await freePort());
  const proc = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", ...extraArgs],
    { stdio: "ignore" },
  );
  const url = `redis://127.0.0.1:${port}`;
  await waitFor(
    async () => {
      const c = createClient({ url, socket: { reconnectStrategy: false } });
      c.on("error", () => undefined);
      await c.connect();
      const pong = await c.ping();
      await c.close();
      return pong === "PONG";
    },
    10_000,
    `redis-server on port ${port}`,
  );
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
