/**
 * The reference model's account, written from CONTRACT.md §2–§4 alone: buckets, holds, overdraft,
 * steps, sessions and the audit trail, with the moves every operation shares (draw, grant, shrink,
 * catch up with time). Plain data, no Redis, no production code.
 */
import type { Plan, Stage } from "./prices.js";
import { STAGES } from "./prices.js";
import type { Coverage } from "../coverage.js";
import { newAlertState, type AlertState } from "./alerts.js";

export type EntryKind = "grant" | "hold" | "release" | "charge" | "expiry" | "forfeit" | "adjustment";

/** A ledger entry as the model predicts it (CONTRACT §4 `GET …/ledger`). */
export interface ModelEntry {
  kind: EntryKind;
  amount: number;
  eventId: string | null;
  sessionId: string | null;
  action: string | null;
  at: number;
  balanceAfter: { available: number; held: number; overdraft: number };
  /** A hold that ran out of time: such runs of entries come in no fixed order (see compare.ts). */
  timed?: boolean;
}

export interface ModelHold {
  amount: number;
  expiresAt: number;
  /** Placement order: holds shrink newest first. */
  order: number;
  sessionId: string;
}

export interface ModelSession {
  used: number;
  reserved: number;
  byStage: Record<Stage, number>;
  /** CONTRACT §10: the budget and when its remaining first reached 0 since it was set. */
  budget: { credits: number; reachedAt: number | null } | null;
}

export type StepState = "held" | "denied" | "completed" | "failed";

export interface ModelAccount {
  id: string;
  plan: Plan;
  createdAt: number;
  cycle: { id: string; start: number; end: number; granted: number } | null;
  subRem: number;
  /** Packs and positive adjustments, oldest first; spent ones leave. */
  others: { id: string; kind: "pack" | "adjustment"; granted: number; remaining: number }[];
  holds: Map<string, ModelHold>;
  overdraft: number;
  used: number;
  steps: Map<string, StepState>;
  sessions: Map<string, ModelSession>;
  /** Charges as (time, credits): `used` of a new cycle counts those since its start. */
  charges: { at: number; amount: number }[];
  entries: ModelEntry[];
  placed: number;
  alerts: AlertState;
}

/** A new account (CONTRACT §3: no credits yet). */
export function newAccount(id: string, plan: Plan, now: number): ModelAccount {
  return {
    id,
    plan,
    createdAt: now,
    cycle: null,
    subRem: 0,
    others: [],
    holds: new Map(),
    overdraft: 0,
    used: 0,
    steps: new Map(),
    sessions: new Map(),
    charges: [],
    entries: [],
    placed: 0,
    alerts: newAlertState(),
  };
}

export function held(a: ModelAccount): number {
  let sum = 0;
  for (const h of a.holds.values()) sum += h.amount;
  return sum;
}

export function remaining(a: ModelAccount): number {
  return a.subRem + a.others.reduce((s, b) => s + b.remaining, 0);
}

export function available(a: ModelAccount): number {
  return Math.max(0, remaining(a) - held(a));
}

export function session(a: ModelAccount, sessionId: string): ModelSession {
  let s = a.sessions.get(sessionId);
  if (!s) {
    s = {
      used: 0,
      reserved: 0,
      byStage: Object.fromEntries(STAGES.map((st) => [st, 0])) as Record<Stage, number>,
      budget: null,
    };
    a.sessions.set(sessionId, s);
  }
  return s;
}

/** Appends an audit entry with the balance as it stands now. */
export function entry(
  a: ModelAccount,
  now: number,
  kind: EntryKind,
  amount: number,
  refs: { eventId?: string; sessionId?: string; action?: string; timed?: boolean } = {},
): void {
  a.entries.push({
    kind,
    amount,
    eventId: refs.eventId ?? null,
    sessionId: refs.sessionId ?? null,
    action: refs.action ?? null,
    at: now,
    balanceAfter: { available: available(a), held: held(a), overdraft: a.overdraft },
    ...(refs.timed ? { timed: true } : {}),
  });
}

/** Takes up to n credits, subscription first, then packs and adjustments oldest first. */
export function draw(a: ModelAccount, n: number): number {
  let taken = Math.min(a.subRem, n);
  a.subRem -= taken;
  for (const b of a.others) {
    const t = Math.min(b.remaining, n - taken);
    b.remaining -= t;
    taken += t;
  }
  a.others = a.others.filter((b) => b.remaining > 0);
  return taken;
}

/** Credits granted repay overdraft first; returns what is left for the new bucket. */
export function repay(a: ModelAccount, credits: number): number {
  const paid = Math.min(a.overdraft, credits);
  a.overdraft -= paid;
  return credits - paid;
}

/** Holds shrink, newest first, until `held` fits what remains (CONTRACT §2). */
export function shrinkHolds(a: ModelAccount, cov: Coverage): void {
  let excess = held(a) - remaining(a);
  if (excess <= 0) return;
  const newestFirst = [...a.holds.entries()].sort(([, x], [, y]) => y.order - x.order);
  for (const [ref, h] of newestFirst) {
    if (excess <= 0) break;
    const cut = Math.min(h.amount, excess);
    h.amount -= cut;
    excess -= cut;
    session(a, h.sessionId).reserved -= cut;
    if (h.amount === 0) a.holds.delete(ref);
    cov.count("hold shrunk");
  }
}

/** Releases one hold; returns the credits it still held. */
export function releaseHold(a: ModelAccount, ref: string): number {
  const h = a.holds.get(ref);
  if (!h) return 0;
  a.holds.delete(ref);
  session(a, h.sessionId).reserved -= h.amount;
  return h.amount;
}

function releaseExpired(a: ModelAccount, upto: number, now: number, expiryKind: EntryKind, cov: Coverage): void {
  for (const [ref, h] of [...a.holds.entries()]) {
    if (h.expiresAt > upto) continue;
    const amount = releaseHold(a, ref);
    if (amount > 0) cov.count("hold expired");
    entry(a, now, expiryKind, amount, { sessionId: h.sessionId, timed: true });
  }
}

/**
 * What time made due, in time order: holds past their time-to-live return to available, and the
 * subscription credits are gone at the cycle's end (holds that expired before the end first).
 */
export function catchUp(a: ModelAccount, now: number, expiryKind: EntryKind, cov: Coverage): void {
  if (a.cycle && a.subRem > 0 && a.cycle.end <= now) {
    releaseExpired(a, a.cycle.end, now, expiryKind, cov);
    const gone = a.subRem;
    a.subRem = 0;
    shrinkHolds(a, cov);
    entry(a, now, "expiry", gone);
    cov.count("cycle ended");
  }
  releaseExpired(a, now, now, expiryKind, cov);
}

/**
 * CONTRACT §10: the budget is reached when its remaining (credits − used − reserved, at least 0)
 * first comes to 0 since it was set; true only that once.
 */
export function reachBudget(s: ModelSession, now: number): boolean {
  if (!s.budget || s.budget.reachedAt !== null || s.used + s.reserved < s.budget.credits) return false;
  s.budget.reachedAt = now;
  return true;
}
