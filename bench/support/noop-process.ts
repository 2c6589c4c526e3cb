import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Starts bench/support/noop-worker.ts as its own process on `queue`. */
export function spawnNoopWorker(
  redisUrl: string,
  queue: string,
  queuePrefix: string,
  concurrency: number,
): { proc: ChildProcess; stop(): Promise<void> } {
  const profile = process.env.CREDITMETER_TEST_CPU_PROF
    ? ["--cpu-prof", `--cpu-prof-dir=${process.env.CREDITMETER_TEST_CPU_PROF}/noop`]
    : [];
  const proc = spawn(
    process.execPath,
    [...profile, "--conditions=source", "--import", "tsx", "bench/support/noop-worker.ts"],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        REDIS_URL: redisUrl,
        QUEUE: queue,
        QUEUE_PREFIX: queuePrefix,
        CONCURRENCY: String(concurrency),
      },
      stdio: ["ignore", "ignore", "inherit"],
    },
  );
  return {
    proc,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        proc.once("exit", () => resolve());
        proc.kill("SIGTERM");
      }),
  };
}
