// `npm start`: builds what is stale, finds or starts Redis, then runs the metering server (CONTRACT §8).
import { spawn } from "node:child_process";
import { constants } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildStale } from "./build-if-stale.mjs";
import { findRedis } from "./find-redis.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const log = (line) => console.error(`start: ${line}`);
const FORWARDED = ["SIGTERM", "SIGINT", "SIGHUP"];

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

const codeOf = (signal) => 128 + (constants.signals[signal] ?? 0);

/**
 * Passes `signal` to the running server (which drains and exits on its own), or remembers it when the
 * server has not started yet. The server has its own process group, so a terminal's Ctrl-C reaches it
 * once (from here), not twice.
 */
function onSignal(signal) {
  signalled = true;
  if (server) {
    if (server.exitCode === null && server.signalCode === null) server.kill(signal);
  } else interrupted ??= signal;
}
for (const signal of FORWARDED) process.on(signal, () => onSignal(signal));

// `npm start` runs this under `sh -c`, which does not pass on the SIGTERM npm forwards to it: when the
// parent goes away (we are re-parented), treat it as a SIGTERM rather than leave the server orphaned.
const parent = process.ppid;
const orphanWatch = setInterval(() => {
  if (process.ppid === parent) return;
  clearInterval(orphanWatch);
  if (signalled) return; // already stopping: a second signal could make the server skip its drain
  log("the parent process went away: stopping");
  onSignal("SIGTERM");
}, 500);
orphanWatch.unref();

try {
  buildStale(root, log);
  redis = await findRedis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", join(root, ".redis-data"), log);
} catch (err) {
  log(err instanceof Error ? err.message : String(err));
  await exit(interrupted ? codeOf(interrupted) : 1);
}
if (interrupted) await exit(codeOf(interrupted));

server = spawn(process.execPath, [join(root, "server/dist/main.js")], {
  stdio: "inherit",
  detached: true,
  env: { ...process.env, REDIS_URL: redis.url },
});
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
