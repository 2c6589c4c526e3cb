// Keeps the private redis-server of one `npm start`: started by the launcher in a process group of its
// own (a terminal's Ctrl-C must not stop Redis while the server still drains), it stops Redis once the
// launcher is gone (its IPC channel closed, however it went: exit, SIGKILL) and the server it was told
// about has exited too. So killing `npm start`'s group, even with SIGKILL, leaves no redis-server behind.
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startPrivateRedis } from "./find-redis.mjs";

const dataDir = process.argv[2];
const record = join(dataDir, "running.json");
let watched = null; // the server's pid, once the launcher has started it
let stopping = false;

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === "EPERM";
  }
};

let redis;
try {
  redis = await startPrivateRedis(dataDir);
} catch (err) {
  process.send?.({ error: err instanceof Error ? err.message : String(err) });
  process.exit(1);
}
writeFileSync(record, JSON.stringify({ pid: redis.pid, port: redis.port, keeper: process.pid }) + "\n");

/** Stops Redis (it flushes its append-only file) once the watched server has exited, then leaves. */
async function stop() {
  if (stopping) return;
  stopping = true;
  // The server drains on its own stop timeout (CREDITMETER_STOP_TIMEOUT_MS) and may need Redis until then.
  while (watched !== null && alive(watched)) await new Promise((r) => setTimeout(r, 100));
  await redis.stop();
  rmSync(record, { force: true });
  process.exit(0);
}

process.on("message", (message) => {
  if (typeof message === "object" && message !== null && Number.isInteger(message.watch)) watched = message.watch;
});
process.on("disconnect", () => void stop());
for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"]) process.on(signal, () => void stop());
process.send?.({ url: redis.url, port: redis.port, pid: redis.pid });
