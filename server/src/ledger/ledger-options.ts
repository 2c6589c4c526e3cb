import type { AppRedis } from "../redis/redis-client.js";
import type { PriceBook } from "@creditmeter/shared";
import type { ArchiveReads } from "./api.js";
import type { LedgerOutcome } from "./outcome.js";

/** What a RedisLedger is built with: its Redis, key namespace, prices, retentions and hooks. */
export interface LedgerOptions {
  redis: AppRedis;
  /** Key namespace (CREDITMETER_KEY_PREFIX). */
  namespace: string;
  priceBook: PriceBook;
  holdTtlSeconds: number;
  idempotencyRetentionSeconds: number;
  ledgerRetentionDays: number;
  /** false: scripts run by EVALSHA, not as Redis Functions (ledger/scripts.ts; default true). */
  functions?: boolean;
  /**
   * Called when a read found time-due work (cycle end, expired holds) and applied it, or found an
   * alert of such work still owed to the webhook outbox (`raisedRecord`: the caller settles it);
   * also when an event batch did such work for an account all of whose events it refused (conflicts).
   */
  onMaintenance?: (outcome: LedgerOutcome) => void;
  /** Called when a fire-and-forget index update fails (it is only a hint; reads stay exact). */
  onError?: (err: unknown) => void;
  /**
   * Called after a script that may have written audit entries for these accounts (the history
   * archiver's hint, docs/history.md); not called for a read that changed nothing.
   */
  onAudit?: (accountIds: string[]) => void;
  /** The history archive, where Redis may have trimmed entries (docs/history.md). */
  archive?: ArchiveReads;
  /**
   * Tests only (the simulator, test/sim): the scripts take "now" (ms) from this instead of Redis's
   * clock, so holds expire and cycles end without sleeping. No configuration sets it, and the
   * scripts read it only from an argument this class builds from numbers (lua/lib/context.lua).
   */
  virtualClock?: () => number;
}
