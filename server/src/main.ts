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
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "stopping: finishing jobs in flight");
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
}

main().catch((err: unknown) => {
  process.stderr.write(`creditmeter: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
