import type {
  AdjustmentBody,
  AlertLevel,
  Balance,
  CycleBody,
  LedgerPage,
  LedgerQuery,
  PackBody,
  Plan,
  PutAccountBody,
  SessionSnapshot,
  Usage,
  UsageQuery,
} from "@creditmeter/shared";
import type { LedgerOutcome } from "./outcome.js";
import type { AccountKeys } from "./keys.js";

/**
 * What the rest of the server may ask of the ledger. Every write is one atomic Lua script;
 * failures are CreditmeterError values (`unknown_account`, `conflict`, ...).
 */
export interface LedgerApi {
  /** PUT /v1/accounts/:id: creates or updates plan and thresholds. */
  putAccount(accountId: string, body: PutAccountBody): Promise<LedgerOutcome & { balance: Balance }>;
  /**
   * Starts a billing cycle; idempotent on cycleId (409 `conflict` on a different body). `actor`
   * (the token's sub or the API key's id) is recorded on the grant's entry, not compared.
   */
  startCycle(accountId: string, body: CycleBody, actor?: string): Promise<LedgerOutcome & { balance: Balance }>;
  /** Adds a never-expiring pack; idempotent on packId; `actor` as for startCycle. */
  addPack(accountId: string, body: PackBody, actor?: string): Promise<LedgerOutcome & { balance: Balance }>;
  /** A signed correction; idempotent on adjustmentId; `actor` as for startCycle. */
  adjust(accountId: string, body: AdjustmentBody, actor?: string): Promise<LedgerOutcome & { balance: Balance }>;
  /** Hides the current alert of that level until the next crossing. */
  dismissAlert(accountId: string, level: AlertLevel): Promise<LedgerOutcome & { balance: Balance }>;
  /**
   * Sets (credits) or removes (null) a session's budget (CONTRACT §10); the outcome carries the
   * session after it, and `budgetReached` when the budget set is already used up.
   */
  setBudget(
    accountId: string,
    sessionId: string,
    credits: number | null,
  ): Promise<LedgerOutcome & { session: SessionSnapshot }>;
  balance(accountId: string): Promise<Balance>;
  session(accountId: string, sessionId: string): Promise<SessionSnapshot>;
  /** Records a session's plan as its total on each plan, or removes it (null); a session change. */
  setPlan(
    accountId: string,
    sessionId: string,
    totals: Record<Plan, number> | null,
  ): Promise<LedgerOutcome & { session: SessionSnapshot }>;
  usage(accountId: string, query: UsageQuery): Promise<Usage>;
  ledgerPage(accountId: string, query: LedgerQuery): Promise<LedgerPage>;
}

/** Sends ledger outcomes to whoever watches (Socket.IO rooms, /ops, metrics). */
export interface Publisher {
  publish(outcome: LedgerOutcome): void;
}

/**
 * What the ledger reads from the history archive (server/src/history) where Redis trimmed its
 * trail. Failures reaching it are CreditmeterError `unavailable` (503).
 */
export interface ArchiveReads {
  /** Σ of the archived charges of an account applied in [fromMs, belowMs). */
  chargesBetween(accountId: string, fromMs: number, belowMs: number): Promise<number>;
  /** GET …/usage over the trail in Redis and, below it, the archive. */
  usage(keys: AccountKeys, query: UsageQuery): Promise<Usage>;
  /** GET …/ledger over the trail in Redis and, below it, the archive. */
  ledgerPage(keys: AccountKeys, query: LedgerQuery): Promise<LedgerPage>;
}
