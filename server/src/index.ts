export { RedisLedger, type LedgerOptions } from "./ledger/redis-ledger.js";
export type { LedgerApi, Publisher } from "./ledger/api.js";
export type { LedgerOutcome } from "./ledger/outcome.js";
export { loadConfig, type Config } from "./config/config.js";
