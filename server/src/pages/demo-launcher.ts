import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Config } from "../config/config.js";

/** Starts demo sessions; at most one per account at a time. */
export interface DemoLauncher {
  /** False when the account already has a demo running (or the driver is not available). */
  start(accountId: string, sessionId: string): boolean;
}

export interface DemoLauncherOptions {
  config: Config;
  /** Told when a demo run ends badly; the server's logger. */
  onError?: (err: Error, accountId: string) => void;
}

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const DRIVER = join(ROOT, "client", "src", "demo", "run-demo.ts");

/**
 * Runs the same driver as `npm run demo` (client/src/demo) in a child process, so the demo goes
 * through the real queue and StageReporter exactly as a generation worker would. Development
 * only: it needs the TypeScript sources and tsx, which a production install does not have.
 */
export function createDemoLauncher(options: DemoLauncherOptions): DemoLauncher {
  const running = new Set<string>();
  const { config } = options;
  return {
    start(accountId, sessionId) {
      if (running.has(accountId) || !existsSync(DRIVER)) return false;
      running.add(accountId);
      const child = spawn(
        process.execPath,
        ["--conditions=source", "--import", "tsx", DRIVER, "--account", accountId, "--session", sessionId],
        {
          cwd: ROOT,
          stdio: ["ignore", "ignore", "pipe"],
          env: {
            NODE_ENV: "development",
            REDIS_URL: config.redisUrl,
            CREDITMETER_QUEUE: config.queueName,
            CREDITMETER_QUEUE_PREFIX: config.queuePrefix,
          },
        },
      );
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => {
        if (stderr.length < 4000) stderr += chunk.toString("utf8");
      });
      const done = (err: Error | null): void => {
        running.delete(accountId);
        if (err) options.onError?.(err, accountId);
      };
      child.on("error", (err) => done(err));
      child.on("exit", (code) => done(code === 0 ? null : new Error(`demo driver exited ${code ?? "by signal"}: ${stderr.trim()}`)));
      return true;
    },
  };
}
