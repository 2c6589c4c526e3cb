// The launcher behind `npm start` (CONTRACT §8): finds or starts Redis, then runs the server so that
// whatever it spawns dies with it. start.mjs runs the built server; tests run the sources through it.
import { spawn } from "node:child_process";
import { constants } from "node:os";
import { findRedis } from "./find-redis.mjs";

const log = (line) => console.error(`start: ${line}`);
const FORWARDED = ["SIGTERM", "SIGINT", "SIGHUP"];
const codeOf = (signal) => 128 + (constants.signals[signal] ?? 0);

/**
 * Runs the server: `prepare()` (the build) first, then Redis (`REDIS_URL`, or a private redis-server
 * with its data in `dataDir`, never in production), then `node <serverArgs>` from `cwd`.
 *
 * The server stays in this process group, so killing `npm start`'s group (even with SIGKILL) kills it
 * too; and it has an IPC channel to this process, so if only this process dies the channel closes and
 * the server drains and exits by itself. A private redis-server lives in a group of its own (a
 * terminal's Ctrl-C must not stop it while the server still drains); its keeper stops it once this
 * process and the server are gone, however they went (scripts/redis-keeper.mjs).
 */
export async function launch({ cwd, serverArgs, dataDir, prepare = () => undefined }) {
  let redis;
  let server = null; // set once Redis is known; signal handlers read it before then
  let signalled = false;
  let interrupted; // a signal that came before the server ran: honoured once Redis is known, so none is orphaned

  /** Leaves with `code` after stopping the private redis-server, if this launcher started one. */
  async function exit(code) {
    if (redis?.stop) {
      log("stopping the private redis-server");
      await redis.stop();
    }
    process.exit(code);
  }

  /** Passes `signal` to the running server (which drains and exits on its own), or remembers it for later. */
  function onSignal(signal) {
    signalled = true;
    if (server) {
      if (server.exitCode === null && server.signalCode === null) server.kill(signal);
    } else interrupted ??= signal;
  }
  for (const signal of FORWARDED) process.on(signal, () => onSignal(signal));

  // `npm start` runs this under `sh -c`, which does not pass on the SIGTERM npm forwards to it: when the
  // parent goes away (we are re-parented), treat it as a SIGTERM rather than leave the server running.
  const parent = process.ppid;
  const orphanWatch = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(orphanWatch);
    if (signalled) return; // already stopping
    log("the parent process went away: stopping");
    onSignal("SIGTERM");
  }, 500);
  orphanWatch.unref();

  try {
    prepare(log);
    const production = process.env.NODE_ENV === "production";
    redis = await findRedis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", dataDir, log, { production });
  } catch (err) {
    log(err instanceof Error ? err.message : String(err));
    await exit(interrupted ? codeOf(interrupted) : 1);
  }
  if (interrupted) await exit(codeOf(interrupted));

  // Not detached: one process group with this launcher. 'ipc': the server stops when the channel closes.
  server = spawn(process.execPath, serverArgs, {
    cwd,
    stdio: ["inherit", "inherit", "inherit", "ipc"],
    env: { ...process.env, REDIS_URL: redis.url },
  });
  log(`server running (pid ${server.pid})`);
  redis.watch?.(server.pid);
  let exiting = false;
  const finish = (code) => {
    if (exiting) return;
    exiting = true;
    void exit(code);
  };
  server.on("error", (err) => {
    log(`could not run the server: ${err.message}`);
    finish(1);
  });
  server.on("exit", (code, signal) => finish(code ?? codeOf(signal)));
}
