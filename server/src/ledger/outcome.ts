import type {
  Balance,
  BalanceAlert,
  EventResult,
  OpsCharge,
  SessionUpdate,
  StageDenied,
  StageProgress,
} from "@creditmeter/shared";

/**
 * Everything one ledger change means for the outside world: the processor's answer and the
 * snapshots to push. A duplicate still carries the current snapshots, so a job retried after a
 * crash between the ledger write and the push re-pushes them and clients converge.
 */
export interface LedgerOutcome {
  accountId: string;
  result: EventResult | null;
  /** The account's balance after the change, when the change touched the account. */
  balance: Balance | null;
  /** The session's snapshot after the change, when it touched a session. */
  session: SessionUpdate | null;
  /** A threshold crossing decided inside the atomic operation: fires once per crossing. */
  alert: BalanceAlert | null;
  denied: StageDenied | null;
  progress: StageProgress | null;
  /** The charge this change applied, for /ops (null when none). */
  charge: OpsCharge | null;
  /** The event's occurredAt in ms, for lag metrics (null for changes not caused by an event). */
  occurredAtMs: number | null;
}
