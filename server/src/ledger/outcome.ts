import type {
  Balance,
  SessionSnapshot,
  BalanceAlert,
  EventResult,
  Plan,
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
  /** Whether the account changed (its seq grew); a duplicate re-pushes without a change. */
  changed: boolean;
  /** The account's balance after the operation; pushed when changed or re-pushed. */
  balance: Balance | null;
  /** Snapshots of the sessions to push: those the change touched (holds expiring may touch several). */
  sessions: SessionUpdate[];
  /** Push the snapshots again though nothing changed: the change repeats an applied event (for a batch, one of the account's events did). */
  repush: boolean;
  /** A threshold crossing decided inside the atomic operation: fires once per crossing. */
  alert: BalanceAlert | null;
  denied: StageDenied | null;
  progress: StageProgress | null;
  /** The charge this change applied, for /ops (null when none). */
  charge: OpsCharge | null;
  /** The account's plan (for metrics): known on every outcome, while balance rides only on some. */
  plan: Plan | null;
  /** The event's occurredAt in ms, for lag metrics (null for changes not caused by an event). */
  occurredAtMs: number | null;
  /** The stage event behind this change (absent for ops changes and maintenance): names its webhook deliveries. */
  eventId?: string | null;
  /**
   * The session whose budget's `remaining` first reached 0 with this change (CONTRACT §10), as
   * its snapshot: fires the `session.budget_reached` webhook. Set by the budget rules, once per budget set.
   */
  budgetReached?: SessionSnapshot | null;
  /**
   * On a duplicate: what the event's first application raised (as it was then), while its webhooks
   * are not known to be queued — the process that applied it may have died before queueing them.
   * Only the webhook outbox reads it (same delivery ids as the first time); sockets, /ops and
   * metrics saw the first application and do not hear it again.
   */
  reraise?: Reraise | null;
  /**
   * What earlier calls that are not stage events raised and their record still owes (an ops grant's
   * repeat: one; the account's or a session's pending raises: each, oldest first), rebuilt as first
   * raised. Only the webhook outbox reads it, as `reraise`.
   */
  owed?: Reraise[] | null;
  /**
   * An ops change or a budget set that raised something (or still owes it, `owed`): the record
   * that keeps it until its webhooks are queued. Its caller queues them with WebhookOutbox.settle
   * before it answers; `publish` leaves them alone (docs/webhooks.md "The gap").
   */
  raisedRecord?: RaisedRecord | null;
}

/** What an earlier change raised, rebuilt as it was then, to be queued again under the same keys. */
export interface Reraise {
  alert: BalanceAlert | null;
  denied: StageDenied | null;
  budgetReached: SessionSnapshot | null;
  /** The account's seq after the first application, which keys an alert not caused by a stage event. */
  seq?: number;
}

/** Where a change that is not a stage event keeps what it raised (lua/lib/raised.lua), to be marked queued. */
export interface RaisedRecord {
  /** A grant's record (lib/grants.lua), a session's hash (set-budget-5.lua), the account hash (touch-3.lua). */
  kind: "grant" | "session" | "account";
  key: string;
  /** The raised texts this outcome queues (its own and those owed): the mark removes exactly these. */
  raised: string[];
}
