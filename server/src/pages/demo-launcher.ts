import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Config } from "../config/config.js";

/** What `start` did: a run began, or why not. */
export type DemoStart = "started" | "already_running" | "busy" | "unavailable";

/** How a demo run reaches the server's REST API (to plan the video, CONTRACT §10). */
export interface DemoApi {
  /** This server's base URL as the run can reach it (loopback). */
  url: string;
  /** A short-lived token of the account's user. */
  token: string;
}

/** Starts demo sessions; at most one per account and `demoMaxConcurrent` in all at a time. */
export interface DemoLauncher {
  start(accountId: string, sessionId: string, api?: DemoApi): DemoStart;
  /** The process ids of the runs going now. */
  running(): number[];
  /** Ends every run still going (SIGTERM, then SIGKILL after `graceMs`) and waits for them. */
  close(graceMs?: number): Promise<void>;
}

export interface DemoLauncherOptions {
  config: Pick<Config, "redisUrl" | "queueName" | "queuePrefix" | "demoMaxConcurrent">;
  /** Told when a demo run ends badly; the server's logger. */
  onError?: (err: Error, accountId: string) => void;
  /** The command a run executes (tests); default: the `npm run demo` driver under tsx. */
  command?: (accountId: string, sessionId: string) => { file: string; args: string[] };
}

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const DRIVER = join(ROOT, "client", "src", "demo", "run-demo.ts");

function driverCommand(accountId: string, sessionId: string): { file: string; args: string[] } | null {
  if (!existsSync(DRIVER)) return null;
  return {
    file: process.execPath,
    args: ["--conditions=source", "--import", "tsx", DRIVER, "--account", accountId, "--session", sessionId],
  };
}

/**
 * Runs the same driver as `npm run demo` (client/src/demo) in a child process, so the demo goes
 * through the real queue and StageReporter exactly as a generation worker would. Development
 * only: it needs the TypeScript sources and tsx, which a production install does not have.
 * The global cap keeps a loop of clicks (or scripts) from forking the machine to death.
 */
export function createDemoLauncher(options: DemoLauncherOptions): DemoLauncher {
  const running = new Map<string, ChildProcess>();
  const { config } = options;
  let closed = false;
  return {
    start(accountId, sessionId, api) {
      if (running.has(accountId)) return "already_running";
      if (closed) return "unavailable";
      if (running.size >= config.demoMaxConcurrent) return "busy";
      const command = options.command?.(accountId, sessionId) ?? driverCommand(accountId, sessionId);
      if (!command) return "unavailable";
      const child = spawn(command.file, command.args, {
        cwd: ROOT,
        stdio: ["ignore", "ignore", "pipe"],
        env: {
          NODE_ENV: "development",
          REDIS_URL: config.redisUrl,
          CREDITMETER_QUEUE: config.queueName,
          CREDITMETER_QUEUE_PREFIX: config.queuePrefix,
          ...(api ? { CREDITMETER_URL: api.url, CREDITMETER_TOKEN: api.token } : {}),
        },
      });
      running.set(accountId, child);
      let stderr = "";
      child.stderr?.on("data", (chunk: Buffer) => {
        if (stderr.length < 4000) stderr += chunk.toString("utf8");
      });
      const done = (err: Error | null): void => {
        if (running.get(accountId) === child) running.delete(accountId);
        if (err && !closed) options.onError?.(err, accountId);
      };
      child.on("error", (err) => done(err));
      child.on("exit", (code) =>
        done(code === 0 ? null : new Error(`demo driver exited ${code ?? "by signal"}: ${stderr.trim()}`)),
      );
      return "started";
    },
    running() {
      return [...running.values()].flatMap((child) => (child.pid === undefined ? [] : [child.pid]));
    },
    async close(graceMs = 3000) {
      closed = true;
      await Promise.all(
        [...running.values()].map(async function endRun(child) {
          if (child.exitCode !== null || child.signalCode !== null) return;
          const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
          child.kill("SIGTERM");
          const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
          await exited;
          clearTimeout(timer);
        }),
      );
      running.clear();
    },
  };
}
