import { spawn, type ChildProcess } from "node:child_process";
import { openSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { BUILT, stalePackages } from "../../scripts/build-if-stale.mjs";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface ServerProcess {
  proc: ChildProcess;
  /** Resolves with the exit code (or signal name) once the process has gone. */
  exited: Promise<number | string>;
  /** Everything the process wrote to stderr, for failure messages. */
  stderr(): string;
  kill(signal: NodeJS.Signals): Promise<number | string>;
  /**
   * Resolves with the port the server listens on once it says so (its `listening` message over the
   * IPC channel, server/src/main.ts); rejects if the process exits before.
   */
  listening: Promise<number>;
}

/** The port of a `{ type: "listening", port }` message from the server, or null for any other message. */
function listeningPort(message: unknown): number | null {
  if (typeof message !== "object" || message === null) return null;
  const { type, port } = message as { type?: unknown; port?: unknown };
  return type === "listening" && typeof port === "number" && Number.isInteger(port) && port > 0 && port <= 65535
    ? port
    : null;
}

/** Where a spawned server's code comes from: its TypeScript sources through tsx, or the build (dist/). */
export type ServerCode = "source" | "built";

/**
 * "built" when server/dist and shared/dist are newer than their sources (`npm test` builds what is
 * stale before the tests), else "source": the build then runs the same code, and a server starts
 * from it in half the time it takes through tsx (7 vs 14 s on the loaded two-core machine, 8 of
 * them per fault file). CREDITMETER_TEST_SERVER_CODE=source forces the sources.
 */
export function freshestServerCode(): ServerCode {
  if (process.env.CREDITMETER_TEST_SERVER_CODE === "source") return "source";
  const needed = BUILT.filter((p) => p.dir === "server" || p.dir === "shared");
  return stalePackages(ROOT, needed).length === 0 ? "built" : "source";
}

const ENTRY: Record<ServerCode, string[]> = {
  source: ["--conditions=source", "--import", "tsx", "server/src/main.ts"],
  built: ["server/dist/main.js"],
};

/** Starts the server as its own process: from sources by default (as the bench does), or from dist/. */
export function spawnServer(env: Record<string, string>, code: ServerCode = "source"): ServerProcess {
  // CREDITMETER_TEST_CPU_PROF=<dir> writes each server's V8 CPU profile there when it exits (bench profiling).
  const profile = process.env.CREDITMETER_TEST_CPU_PROF
    ? ["--cpu-prof", `--cpu-prof-dir=${process.env.CREDITMETER_TEST_CPU_PROF}`]
    : [];
  // As `npm start` runs it (scripts/start.mjs): 32 MB semi-spaces, unless NODE_OPTIONS (the test's or
  // this process's, as the child inherits it) sets its own: a command-line flag would override it.
  const nodeOptions = env.NODE_OPTIONS ?? process.env.NODE_OPTIONS ?? "";
  const semiSpace = nodeOptions.includes("--max-semi-space-size") ? [] : ["--max-semi-space-size=32"];
  const args = [...profile, ...semiSpace, ...ENTRY[code]];
  const proc = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: "warn", NODE_ENV: "test", ...env },
    // CREDITMETER_TEST_SERVER_LOG=<file> keeps the processes' JSON logs for debugging a failure.
    // 'ipc': the server says which port it bound (and stops if this process goes, as under `npm start`).
    stdio: [
      "ignore",
      process.env.CREDITMETER_TEST_SERVER_LOG ? openSync(process.env.CREDITMETER_TEST_SERVER_LOG, "a") : "ignore",
      "pipe",
      "ipc",
    ],
  });
  // The channel alone must not keep a test worker alive.
  proc.channel?.unref();
  let err = "";
  proc.stderr?.on("data", (chunk: Buffer) => {
    err = (err + chunk.toString()).slice(-20_000);
  });
  const exited = new Promise<number | string>((resolve) =>
    proc.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown")),
  );
  const listening = new Promise<number>((resolve, reject) => {
    proc.on("message", (message: unknown) => {
      const port = listeningPort(message);
      if (port !== null) resolve(port);
    });
    void exited.then((code) => reject(new Error(`the server exited (${String(code)}) before it listened`)));
  });
  // Not every caller waits for it (a server expected to exit at start).
  listening.catch(() => undefined);
  return {
    proc,
    exited,
    listening,
    stderr: () => err,
    kill(signal) {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}

/** A server process listening on a loopback port of its own, with the way to reach it. */
export interface LoopbackServer extends ServerProcess {
  /** The port it listens on; throws until the process has said (after `ready()` or `listening`). */
  readonly port: number;
  /** `http://127.0.0.1:<port>`; throws until the port is known, as `port` does. */
  readonly url: string;
  /** The status /readyz answers now; 0 when nothing answers within 3 s (not listening yet, or frozen). */
  readyz(): Promise<number>;
  /** Waits until /readyz answers 200; fails at once if the process exits, and with its stderr at the deadline. */
  ready(timeoutMs?: number): Promise<void>;
}

export interface LoopbackOptions {
  /** The port to listen on (a restart on the same address); by default the kernel picks one (PORT=0). */
  port?: number;
}

/**
 * Spawns `server/src/main.ts` on 127.0.0.1 (HOST and PORT are the helper's; `env` gives the rest:
 * REDIS_URL, key prefix, queue, secrets). Does not wait: `ready()` does. PORT is 0 unless given,
 * and the port is the one the server reports it bound: a port picked here and bound seconds later
 * could be taken meanwhile by another test file's process, which would then answer the probes.
 */
export async function spawnLoopbackServer(
  env: Record<string, string>,
  options: LoopbackOptions = {},
): Promise<LoopbackServer> {
  const server = spawnServer({ ...env, HOST: "127.0.0.1", PORT: String(options.port ?? 0) }, freshestServerCode());
  let bound: number | undefined;
  void server.listening.then(
    (port) => (bound = port),
    () => undefined,
  );
  const port = (): number => {
    if (bound === undefined) throw new Error("the server has not said which port it listens on yet: await ready()");
    return bound;
  };
  const readyz = (): Promise<number> =>
    bound === undefined
      ? Promise.resolve(0)
      : fetch(`http://127.0.0.1:${bound}/readyz`, { signal: AbortSignal.timeout(3000) }).then(
          (res) => res.status,
          () => 0,
        );
  return {
    ...server,
    get port() {
      return port();
    },
    get url() {
      return `http://127.0.0.1:${port()}`;
    },
    readyz,
    ready: (timeoutMs = READY_TIMEOUT_MS) => untilReady(server, readyz, timeoutMs),
  };
}

/** `spawnLoopbackServer`, then `ready(readyTimeoutMs)`: a server the test can use at once. */
export async function startLoopbackServer(
  env: Record<string, string>,
  options: LoopbackOptions & { readyTimeoutMs?: number } = {},
): Promise<LoopbackServer> {
  const server = await spawnLoopbackServer(env, options);
  try {
    await server.ready(options.readyTimeoutMs);
  } catch (err) {
    await server.kill("SIGKILL");
    throw err;
  }
  return server;
}

// A server started from sources through tsx takes 15–40 s to answer on a loaded two-core machine.
const READY_TIMEOUT_MS = 60_000;

async function untilReady(server: ServerProcess, readyz: () => Promise<number>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const exit: { code?: number | string } = {};
  void server.exited.then((code) => (exit.code = code));
  for (;;) {
    if ((await readyz()) === 200) return;
    if (exit.code !== undefined) {
      throw new Error(
        `the server exited (${String(exit.code)}) before it was ready; stderr: ${server.stderr().slice(-2000)}`,
      );
    }
    if (Date.now() > deadline) {
      throw new Error(`the server was not ready within ${timeoutMs} ms; stderr: ${server.stderr().slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}
