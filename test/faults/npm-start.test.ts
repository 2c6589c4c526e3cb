import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { freePort, waitFor } from "../support/redis-server.js";

// Whatever `npm start` spawns dies with it (CONTRACT §8 v1.1), and production never gets a private
// Redis. The launcher runs as `npm start` runs it (scripts/launch.mjs), on the server's sources
// (test/support/start-from-source.mjs), in a process group of its own like npm's; nothing here
// listens on 6379: REDIS_URL points at a port where nothing answers, so a private redis-server starts.
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const LAUNCHER = join(ROOT, "test/support/start-from-source.mjs");

/** True while `pid` is a live process (a zombie waiting to be reaped counts as gone). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** Live processes whose process group is `pgid`. */
function groupMembers(pgid: number): number[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        return fields[0] !== "Z" && Number(fields[2]) === pgid;
      } catch {
        return false;
      }
    });
}

/** True when something accepts connections on the loopback `port`. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

interface Started {
  launcher: ChildProcess;
  port: number;
  dataDir: string;
  stderr(): string;
  exited: Promise<number | string>;
}

describe("npm start", () => {
  const started: Started[] = [];
  const pids: number[] = [];

  afterEach(() => {
    for (const s of started.splice(0)) {
      try {
        if (s.launcher.pid) process.kill(-s.launcher.pid, "SIGKILL");
      } catch {
        // the group is gone already
      }
      rmSync(s.dataDir, { recursive: true, force: true });
    }
    for (const pid of pids.splice(0)) if (alive(pid)) process.kill(pid, "SIGKILL");
  });

  async function launch(env: Record<string, string> = {}): Promise<Started> {
    const port = await freePort();
    const deadRedis = await freePort();
    const dataDir = mkdtempSync(join(tmpdir(), "creditmeter-start-"));
    const launcher = spawn(process.execPath, [LAUNCHER], {
      cwd: ROOT,
      detached: true, // a group of its own, as `npm start` has under a shell
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, NODE_ENV: "development", LOG_LEVEL: "warn", PORT: String(port), HOST: "127.0.0.1", REDIS_URL: `redis://127.0.0.1:${deadRedis}`, CREDITMETER_TEST_REDIS_DATA: dataDir, ...env },
    });
    let err = "";
    launcher.stderr?.on("data", (chunk: Buffer) => (err = (err + chunk.toString()).slice(-20_000)));
    const exited = new Promise<number | string>((resolve) => launcher.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown")));
    const s = { launcher, port, dataDir, stderr: () => err, exited };
    started.push(s);
    return s;
  }

  /** Waits for the server to be ready; returns the pids of the server, the private redis-server and its keeper. */
  async function ready(s: Started): Promise<{ server: number; redis: number; keeper: number }> {
    await waitFor(async () => (await fetch(`http://127.0.0.1:${s.port}/readyz`)).ok, 60_000, `the server to be ready (stderr: ${s.stderr().slice(-800)})`);
    const server = Number(/server running \(pid (\d+)\)/.exec(s.stderr())?.[1]);
    const record: unknown = JSON.parse(readFileSync(join(s.dataDir, "running.json"), "utf8"));
    const { pid: redis, keeper } = record as { pid: number; keeper?: number };
    expect(server).toBeGreaterThan(0);
    expect(redis).toBeGreaterThan(0);
    pids.push(server, redis, ...(keeper ? [keeper] : []));
    return { server, redis, keeper: keeper ?? 0 };
  }

  /** Polls until every one of `pids` is gone and `port` is free. */
  async function nothingLeft(s: Started, procs: number[]): Promise<void> {
    await waitFor(async () => procs.every((pid) => !alive(pid)) && !(await listening(s.port)), 30_000, `no process left (alive: ${procs.filter(alive).join(", ")}; stderr: ${s.stderr().slice(-800)})`);
  }

  it("leaves no process and a free port when its process group is SIGKILLed", async () => {
    const s = await launch();
    const { server, redis, keeper } = await ready(s);
    const group = s.launcher.pid ?? 0;
    process.kill(-group, "SIGKILL");
    await nothingLeft(s, [server, redis, keeper].filter((pid) => pid > 0));
    expect(groupMembers(group)).toEqual([]);
    expect(existsSync(join(s.dataDir, "running.json")), "the private Redis's record is removed").toBe(false);
  });

  it("stops the server and its private Redis when only the launcher is SIGKILLed", async () => {
    const s = await launch();
    const { server, redis, keeper } = await ready(s);
    s.launcher.kill("SIGKILL");
    await nothingLeft(s, [server, redis, keeper].filter((pid) => pid > 0));
  });

  it("starts no private Redis in production: a Redis that does not answer is an error", async () => {
    const s = await launch({ NODE_ENV: "production", CREDITMETER_AUTH_SECRET: "production-test-secret-0123456789" });
    const code = await Promise.race([s.exited, new Promise((resolve) => setTimeout(() => resolve("still running"), 30_000))]);
    expect(code, s.stderr()).toBe(1);
    expect(s.stderr()).toMatch(/nothing answers at redis:\/\/127\.0\.0\.1:\d+\/? \(REDIS_URL\) and NODE_ENV=production/);
    expect(s.stderr()).not.toMatch(/started a private redis-server/);
    expect(existsSync(join(s.dataDir, "running.json"))).toBe(false);
  });
});
