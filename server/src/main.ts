import { pino } from "pino";
import { ConfigError, loadConfig } from "./config/config.js";
import { startServer } from "./app/compose.js";

/** The process: configuration, start, and a graceful stop on SIGTERM/SIGINT (CONTRACT §8). */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`creditmeter: invalid configuration: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = pino({ level: config.logLevel, base: { service: "creditmeter", pid: process.pid } });
  const server = await startServer(config, logger);
  // A parent with an IPC channel (`npm start`, the tests) learns the bound port from the process
  // itself: with PORT=0 the kernel picks it, so no one else can take it between a pick and the bind.
  if (process.send && process.connected) process.send({ type: "listening", port: server.port }, () => undefined);
  let stopping = false;
  /**
   * Drains (no new jobs, jobs in flight finished, sockets closed) and exits 0; after the stop
   * timeout exits 1 instead, naming what it could not finish: a Redis that has gone must not keep
   * the process alive. Jobs not acknowledged by then are redelivered (BullMQ's stalled-job check).
   */
  const stop = (reason: string): void => {
    if (stopping) return;
    stopping = true;
    const timeoutMs = config.stopTimeoutMs;
    logger.info({ reason, timeoutMs }, "stopping: finishing jobs in flight");
    setTimeout(() => {
      const unfinished = server.unfinished();
      const line = `stop timed out after ${timeoutMs} ms (CREDITMETER_STOP_TIMEOUT_MS); not finished: ${unfinished.join("; ") || "nothing named"}`;
      logger.error({ unfinished, timeoutMs }, line);
      process.stderr.write(`creditmeter: ${line}\n`);
      process.exit(1);
    }, timeoutMs);
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, "unclean stop");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  // Started by `npm start` with an IPC channel: when the launcher goes (even SIGKILLed) the channel
  // closes, and the server stops rather than live on as an orphan holding the port (CONTRACT §8).
  if (process.channel) {
    process.channel.unref();
    process.on("disconnect", () => stop("the npm start that launched this process is gone"));
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`creditmeter: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
