export { RedisLedger, type LedgerOptions } from "./ledger/redis-ledger.js";
export type { LedgerApi, Publisher } from "./ledger/api.js";
export type { LedgerOutcome } from "./ledger/outcome.js";
export { loadConfig, type Config } from "./config/config.js";
export { createConsumer, type ConsumerOptions } from "./metering/consumer.js";
export { processEvent } from "./metering/process-event.js";
export { sweepOnce, startSweeper } from "./ledger/sweeper.js";
export { bullmqConnection } from "./metering/bullmq-connection.js";
