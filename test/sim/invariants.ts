/**
 * CONTRACT §2's invariants, checked on what the real ledger shows (its balance and its audit
 * trail) after every operation, independently of the model.
 */
import type { Balance, LedgerEntry } from "@creditmeter/shared";
import { Mismatch } from "./compare.js";

/** What the simulator has seen of one real account so far. */
export interface Seen {
  entries: LedgerEntry[];
  lastEntryId: string | null;
  seq: number;
  sessionSeq: Map<string, number>;
  /** Signed sum of the adjustments applied (their entries may carry magnitudes only). */
  adjustments: { refunds: number; debits: number };
  /** eventId → "<session>/<step>" of the events sent to this account. */
  stepOf: Map<string, string>;
}

export function newSeen(): Seen {
  return {
    entries: [],
    lastEntryId: null,
    seq: 0,
    sessionSeq: new Map(),
    adjustments: { refunds: 0, debits: 0 },
    stepOf: new Map(),
  };
}

function must(ok: boolean, check: string, expected: unknown, actual: unknown): void {
  if (!ok) throw new Mismatch(`invariant: ${check}`, expected, actual);
}

/** available ≥ 0, held ≤ Σ remaining, available = Σ remaining − held, seq never goes back. */
export function checkBalance(b: Balance, seen: Seen): void {
  const remaining = b.buckets.reduce((s, x) => s + x.remaining, 0);
  must(b.available >= 0, "available >= 0", ">= 0", b.available);
  must(b.held <= remaining, "held <= sum of remaining", `<= ${remaining}`, b.held);
  must(b.available === remaining - b.held, "available = sum of remaining - held", remaining - b.held, b.available);
  must(b.overdraft >= 0, "overdraft >= 0", ">= 0", b.overdraft);
  must(b.seq >= seen.seq, "balance seq never decreases", `>= ${seen.seq}`, b.seq);
  seen.seq = b.seq;
}

/**
 * Conservation (granted + overdraft owed = remaining + charged + expired/forfeited + debited)
 * from the audit trail, and every charge traceable to one eventId, no step charged twice.
 */
export function checkTrail(b: Balance, seen: Seen): void {
  const sum = (pred: (e: LedgerEntry) => boolean): number =>
    seen.entries.filter(pred).reduce((s, e) => s + e.amount, 0);
  const granted = sum((e) => e.kind === "grant") + seen.adjustments.refunds;
  const charged = sum((e) => e.kind === "charge");
  const gone = sum((e) => e.kind === "forfeit") + sum((e) => e.kind === "expiry" && e.sessionId === null);
  const remaining = b.buckets.reduce((s, x) => s + x.remaining, 0);
  must(
    granted + b.overdraft === remaining + charged + gone + seen.adjustments.debits,
    "conservation: granted + overdraft = remaining + charged + expired/forfeited + debited",
    granted + b.overdraft,
    { remaining, charged, gone, debited: seen.adjustments.debits },
  );
  const charges = seen.entries.filter((e) => e.kind === "charge");
  const ids = new Set<string>();
  const steps = new Set<string>();
  for (const c of charges) {
    must(c.eventId !== null, "every charge names its eventId", "an eventId", c);
    const id = c.eventId ?? "";
    must(!ids.has(id), "one charge per eventId", "unique", id);
    ids.add(id);
    const step = seen.stepOf.get(id) ?? `?${id}`;
    must(!steps.has(step), "no step charged twice", "one charge", step);
    steps.add(step);
  }
}
