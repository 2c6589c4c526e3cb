import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** A bench-side process (a worker the bench compares the server with) and how to stop it. */
export interface BenchProcess {
  proc: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts `bench/support/<script>.ts` from sources with `env` added and Node's `nodeFlags`, profiled under
 * `CREDITMETER_TEST_CPU_PROF/<script>` when that is set, as the servers are.
 */
function spawnBenchProcess(script: string, env: Record<string, string>, nodeFlags: string[] = []): BenchProcess {
  const profile = process.env.CREDITMETER_TEST_CPU_PROF
    ? ["--cpu-prof", `--cpu-prof-dir=${process.env.CREDITMETER_TEST_CPU_PROF}/${script}`]
    : [];
  const proc = spawn(
    process.execPath,
    [...profile, ...nodeFlags, "--conditions=source", "--import", "tsx", `bench/support/${script}.ts`],
    { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "inherit"] },
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

/** Starts bench/support/noop-worker.ts as its own process on `queue`. */
export function spawnNoopWorker(
  redisUrl: string,
  queue: string,
  queuePrefix: string,
  concurrency: number,
): BenchProcess {
  return spawnBenchProcess("noop-worker", {
    REDIS_URL: redisUrl,
    QUEUE: queue,
    QUEUE_PREFIX: queuePrefix,
    CONCURRENCY: String(concurrency),
  });
}

/** Starts bench/support/floor-server.ts (BullMQ + Socket.IO, one emit per job) on `queue` and `port`. */
export function spawnFloorServer(
  redisUrl: string,
  queue: string,
  queuePrefix: string,
  concurrency: number,
  port: number,
): BenchProcess {
  return spawnBenchProcess(
    "floor-server",
    {
      REDIS_URL: redisUrl,
      QUEUE: queue,
      QUEUE_PREFIX: queuePrefix,
      CONCURRENCY: String(concurrency),
      PORT: String(port),
    },
    ["--max-semi-space-size=32"],
  ); // as the server runs (test/support/server-process.ts)
}
