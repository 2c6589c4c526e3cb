import { spawn, type ChildProcess } from "node:child_process";
import { openSync } from "node:fs";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface ServerProcess {
  proc: ChildProcess;
  /** Resolves with the exit code (or signal name) once the process has gone. */
  exited: Promise<number | string>;
  /** Everything the process wrote to stderr, for failure messages. */
  stderr(): string;
  kill(signal: NodeJS.Signals): Promise<number | string>;
}

/** Starts `server/src/main.ts` as its own process (from sources, like `npm start` does from dist). */
export function spawnServer(env: Record<string, string>): ServerProcess {
  // CREDITMETER_TEST_CPU_PROF=<dir> writes each server's V8 CPU profile there when it exits (bench profiling).
  const profile = process.env.CREDITMETER_TEST_CPU_PROF
    ? ["--cpu-prof", `--cpu-prof-dir=${process.env.CREDITMETER_TEST_CPU_PROF}`]
    : [];
  // As `npm start` runs it (scripts/start.mjs): 32 MB semi-spaces, unless NODE_OPTIONS (the test's or
  // this process's, as the child inherits it) sets its own: a command-line flag would override it.
  const nodeOptions = env.NODE_OPTIONS ?? process.env.NODE_OPTIONS ?? "";
  const semiSpace = nodeOptions.includes("--max-semi-space-size") ? [] : ["--max-semi-space-size=32"];
  const args = [...profile, ...semiSpace, "--conditions=source", "--import", "tsx", "server/src/main.ts"];
  const proc = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: "warn", NODE_ENV: "test", ...env },
    // CREDITMETER_TEST_SERVER_LOG=<file> keeps the processes' JSON logs for debugging a failure.
    stdio: [
      "ignore",
      process.env.CREDITMETER_TEST_SERVER_LOG ? openSync(process.env.CREDITMETER_TEST_SERVER_LOG, "a") : "ignore",
      "pipe",
    ],
  });
  let err = "";
  proc.stderr?.on("data", (chunk: Buffer) => {
    err = (err + chunk.toString()).slice(-20_000);
  });
  const exited = new Promise<number | string>((resolve) =>
    proc.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown")),
  );
  return {
    proc,
    exited,
    stderr: () => err,
    kill(signal) {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}
