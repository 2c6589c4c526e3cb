// What goes into apply-events-4a.lua and what comes back: the arguments of each event (batch-call.ts
// puts them in the call), the reply's schema, and the outcome of each event built from it.
import { z } from "zod";
import {
  AlertLevel,
  CreditmeterError,
  DenyReason,
  PLANS,
  chargeBasis,
  quoteCharge,
  quoteHold,
  type EventResult,
  type PriceBook,
  type SessionSnapshot,
  type SessionUpdate,
  type Stage,
  type StageEvent,
} from "@creditmeter/shared";
import type { LedgerOutcome } from "./outcome.js";
import { buildOutcome } from "./outcome-builder.js";
import { owedWebhooks, withRaised } from "./owed-webhooks.js";
import { FINGERPRINT_FIELDS, actionOfCode, fingerprintArgument, type FingerprintField } from "./fingerprint.js";
import { RawAccount, RawSession, accountSide, list, n, toBalance, toSession } from "./reply.js";

export { FINGERPRINT_FIELDS, fingerprintDifference, fingerprintValues } from "./fingerprint.js";

/** What one event sends in apply-events-4a (see its header), with its stage. */
export interface EventArgs {
  args: string[];
  stage: Stage;
  /** How long its eventId must be remembered (the call sends the longest of the batch's). */
  idempotencyMs: number;
}

/** One number when every plan has the same, else each plan's (apply-events-4a `on_plan`). */
function onPlan(values: number[]): string {
  const [first] = values;
  return values.every((x) => x === first) ? String(first) : values.join(",");
}

/** The arguments of one event in apply-events-4a (see its header), or why it cannot be applied. */
export function eventArgs(
  event: StageEvent,
  opts: { priceBook: PriceBook; holdTtlSeconds: number; idempotencyRetentionSeconds: number },
): EventArgs | CreditmeterError {
  const entry = opts.priceBook.actions[event.action];
  // The consumer accepts a redelivery until occurredAt + retention, and occurredAt may be a few
  // minutes ahead of this clock: the event must be remembered at least that long.
  const idempotencyMs =
    opts.idempotencyRetentionSeconds * 1000 + Math.max(0, Date.parse(event.occurredAt) - Date.now());
  // Its type rides in the fingerprint's first letter.
  const args = [fingerprintArgument(event), event.eventId, event.sessionId, event.stepId, event.action];
  if (event.type !== "stage.started" && event.type !== "stage.completed")
    return { args, stage: entry.stage, idempotencyMs };
  const quote = event.type === "stage.completed" ? quoteCharge : quoteHold;
  const amounts: number[] = [];
  const rates: number[] = [];
  let units: number | null = null;
  for (const plan of PLANS) {
    const q = quote(opts.priceBook, event, plan);
    if (!q.ok) return new CreditmeterError("invalid_event", `invalid_event: ${q.field}: ${q.message}`, q.field);
    amounts.push(q.credits);
    // What a charge's audit entry carries; a started has no seconds to bill yet (checked all the same).
    const basis = chargeBasis(opts.priceBook, event, plan);
    if (!basis.ok)
      return new CreditmeterError("invalid_event", `invalid_event: ${basis.field}: ${basis.message}`, basis.field);
    rates.push(basis.rate);
    units = basis.units;
  }
  if (event.type === "stage.started")
    args.push(onPlan(amounts), String((entry.holdTtlSeconds ?? opts.holdTtlSeconds) * 1000));
  else args.push(onPlan(amounts), event.model ?? "", entry.stage, units === null ? "" : String(units), onPlan(rates));
  return { args, stage: entry.stage, idempotencyMs };
}

const BatchAccount = z.object({
  account: RawAccount,
  changed: z.boolean(),
  deadline: z.string().optional(),
  sessions: z.record(z.string(), RawSession),
  /** C of lua/lib/burn.lua, when the batch charged the account or carries a planned session. */
  burn: n.optional(),
  /** The crossing the catch-up of an account with no answered event raised, and its kept text (lua/lib/raised.lua). */
  alert: z.object({ level: AlertLevel, threshold: n, available: n }).optional(),
  raised: z.string().optional(),
});

// The answer of an applied event first: a union tries its options in order, and a failed try
// costs an issue list each (measured: most of the reply's parse). An error answer has no `a`.
const BatchEvent = z.union([
  z.object({
    a: z.number().int().min(0),
    status: z.enum(["applied", "denied", "duplicate", "ignored"]),
    charged: n,
    held: n,
    decision: z.enum(["granted", "denied"]).optional(),
    dr: DenyReason.optional(),
    av: n,
    su: n,
    alert: z.object({ level: AlertLevel, threshold: n, available: n }).optional(),
    denied: z.object({ required: n, available: n, reason: DenyReason }).optional(),
    charge: z.literal(true).optional(),
    progress: z.boolean().optional(),
    repush: z.boolean().optional(),
    /** This event used the session's budget up (CONTRACT §10): once per budget set. */
    br: z.literal(true).optional(),
    // A duplicate whose first application raised webhooks not known to be queued (lib/apply.lua).
    owed: z
      .object({
        t: n,
        rq: n.optional(),
        av: n.optional(),
        al: AlertLevel.optional(),
        th: n.optional(),
        br: z.literal(1).optional(),
      })
      .optional(),
  }),
  z.object({ error: z.literal("unknown_account") }),
  // The eventId was applied with another fingerprint: `field` the first that differs, `was` its value then.
  z.object({ error: z.literal("conflict"), field: z.enum(FINGERPRINT_FIELDS), was: z.unknown().optional() }),
]);

/** The reply of apply-events-4a.lua (see its header); its events in the order batch-call.ts sent them. */
export const BatchReply = z.object({ now: n, accounts: list(BatchAccount), events: z.array(BatchEvent) });
export type BatchReply = z.infer<typeof BatchReply>;
export type BatchAccount = z.infer<typeof BatchAccount>;

/**
 * The refusal of a reused eventId whose event differs from the one applied (CONTRACT §2 v1.1), or
 * (`how` = "queued") from the one the queue already holds under that id. `was` undefined: not
 * known (the record keeps a hash of the ids).
 */
export function conflictError(
  event: StageEvent,
  field: FingerprintField,
  was: unknown,
  how: "applied" | "queued" = "applied",
): CreditmeterError {
  const now = event[field] ?? null;
  // undefined: the record keeps only a hash of it (an id, lua/lib/idem.lua).
  const then = was === undefined ? `another ${field}` : `${field} ${JSON.stringify(was)}`;
  return new CreditmeterError(
    "conflict",
    `conflict: ${field}: eventId "${event.eventId}" was already ${how} with ${then}, this event has ${JSON.stringify(now)}`,
    field,
  );
}

/** An event as sent in a batch: parsed, with the stage its action belongs to. */
export interface BatchedEvent {
  event: StageEvent;
  stage: Stage;
}

/**
 * The accountId of each entry of `reply.accounts`. `batch` is in the call's order (batch-call.ts:
 * each account's events together, accounts in order), and the script has an entry for each account
 * it found, in that order; an unknown account answers each of its events `unknown_account`. Not
 * from the answers' `a` alone: an account whose events were all refused (conflicts) answers none,
 * and its entry (which may carry a moved deadline) would have no accountId. Throws if the answers'
 * `a` disagree, rather than push one account's state as another's.
 */
export function accountIdsOf(batch: BatchedEvent[], reply: BatchReply): string[] {
  const ids: string[] = [];
  batch.forEach(({ event }, i) => {
    if (batch[i - 1]?.event.accountId === event.accountId) return;
    const r = reply.events[i];
    if (r && !("a" in r) && r.error === "unknown_account") return;
    ids.push(event.accountId);
  });
  reply.events.forEach((r, i) => {
    if ("a" in r && ids[r.a] !== batch[i]?.event.accountId)
      throw new Error(`ledger batch: answer ${i} names account entry ${r.a}, not its event's account`);
  });
  if (ids.length !== reply.accounts.length)
    throw new Error(`ledger batch: ${reply.accounts.length} accounts answered for ${ids.length} found`);
  return ids;
}

/**
 * One outcome per event of a batch (or `unknown_account`); `ids` is accountIdsOf(batch, reply).
 * Each event keeps its own result, alert, denial and charge; the account's balance and the
 * sessions the batch touched ride on the account's last event in the batch, so a batch pushes
 * each of them once, at its final state — and again if any of its events was a repeat.
 */
export function batchOutcomes(
  batch: BatchedEvent[],
  reply: BatchReply,
  ids: string[],
): (LedgerOutcome | "unknown_account" | CreditmeterError)[] {
  if (reply.events.length !== batch.length)
    throw new Error(`ledger batch: ${reply.events.length} answers for ${batch.length} events`);
  const at = new Date(reply.now).toISOString();
  const lastOf = new Map<number, number>();
  const repeated = new Set<number>();
  reply.events.forEach((r, i) => {
    if (!("a" in r)) return;
    lastOf.set(r.a, i);
    if (r.repush) repeated.add(r.a);
  });
  // What each account's last event pushes: every session the reply carries (touched or re-pushed).
  const pushes = reply.accounts.map((acc, i) => {
    const side = accountSide(acc.account, acc.burn);
    return Object.entries(acc.sessions).map(([sid, raw]): SessionUpdate => toSession(ids[i] ?? "", sid, raw, side));
  });

  return reply.events.map((r, i) => {
    const item = batch[i];
    if (!item) throw new Error("ledger batch: an answer without its event");
    if (!("a" in r)) {
      if (r.error !== "conflict") return r.error;
      // A compact record keeps a known action as its code (fingerprint.ts).
      return conflictError(item.event, r.field, r.field === "action" ? actionOfCode(r.was) : r.was);
    }
    const { event, stage } = item;
    const acc = reply.accounts[r.a];
    if (!acc) throw new Error(`ledger batch: the answer of ${event.eventId} names no account`);
    const last = lastOf.get(r.a) === i;
    const result: EventResult = {
      status: r.status,
      charged: r.charged,
      held: r.held,
      available: r.av,
      sessionUsed: r.su,
      ...(r.decision && event.type === "stage.started" ? { decision: r.decision } : {}),
      ...(r.dr && event.type === "stage.started" ? { denyReason: r.dr } : {}),
    };
    const base = {
      accountId: event.accountId,
      sessionId: event.sessionId,
      stepId: event.stepId,
      action: event.action,
      at,
    };
    return {
      accountId: event.accountId,
      result,
      changed: last && acc.changed,
      repush: last && repeated.has(r.a),
      balance: last ? toBalance(event.accountId, acc.account) : null,
      sessions: last ? (pushes[r.a] ?? []) : [],
      alert: r.alert
        ? {
            accountId: event.accountId,
            level: r.alert.level,
            threshold: r.alert.threshold,
            available: r.alert.available,
            at,
          }
        : null,
      denied: r.denied
        ? { ...base, required: r.denied.required, available: r.denied.available, reason: r.denied.reason }
        : null,
      progress: r.progress && event.progress !== undefined ? { ...base, stage, progress: event.progress } : null,
      charge: r.charge
        ? {
            accountId: event.accountId,
            sessionId: event.sessionId,
            action: event.action,
            stage,
            model: event.model ?? null,
            amount: r.charged,
            at,
          }
        : null,
      plan: acc.account.plan,
      occurredAtMs: Date.parse(event.occurredAt),
      eventId: event.eventId,
      budgetReached: r.br ? budgetReachedSnapshot(event, acc) : null,
      reraise: r.owed ? owedWebhooks(r.owed, base, r.dr, () => budgetReachedSnapshot(event, acc)) : null,
    };
  });
}

/**
 * What a batch changed in accounts none of whose events it answered with an outcome (each refused
 * as a `conflict`): the catch-up the script did all the same (an expired hold released, a cycle
 * ended, lua/lib/maintain) is pushed as a read's catch-up is (LedgerOptions.onMaintenance), since no
 * outcome carries that account's balance and sessions. An account that did not change gets none.
 * A crossing that catch-up raised rides with it, kept in the account (`keyOf`: its hash) until
 * queued, as a read's is (`raisedRecord`: onMaintenance settles it).
 */
export function catchUpOutcomes(
  reply: BatchReply,
  ids: string[],
  keyOf: (accountId: string) => string,
): LedgerOutcome[] {
  const answered = new Set<number>();
  for (const r of reply.events) if ("a" in r) answered.add(r.a);
  const out: LedgerOutcome[] = [];
  reply.accounts.forEach((acc, i) => {
    const id = ids[i];
    if (!acc.changed || answered.has(i) || id === undefined) return;
    const { account, sessions, burn, alert, raised } = acc;
    const outcome = buildOutcome(id, { now: reply.now, changed: true, account, sessions, burn, alert });
    out.push(withRaised(outcome, { raised }, { kind: "account", key: keyOf(id) }));
  });
  return out;
}

/** The session whose budget an event used up, as the batch left it (its reachedAt set). */
function budgetReachedSnapshot(event: StageEvent, acc: BatchAccount): SessionSnapshot {
  const { last: _last, ...snapshot } = toSession(
    event.accountId,
    event.sessionId,
    acc.sessions[event.sessionId] ?? {},
    accountSide(acc.account, acc.burn),
  );
  return snapshot;
}
