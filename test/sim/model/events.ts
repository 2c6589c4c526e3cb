/**
 * Stage events in the reference model (CONTRACT §2): holds, denials, charges, releases,
 * idempotency by eventId (with the v1.1 fingerprint), steps that end, and the processor's answer.
 */
import type { StageEvent } from "@creditmeter/shared";
import type { Flags } from "../flags.js";
import type { Coverage } from "../coverage.js";
import { PRICES, chargeOf, holdOf, type Action } from "./prices.js";
import { available, draw, entry, reachBudget, releaseHold, session, type ModelAccount } from "./state.js";

/** The processor's return value (CONTRACT §2, fixed fields). */
export interface ModelResult {
  status: "applied" | "denied" | "duplicate" | "ignored";
  charged: number;
  held: number;
  available: number;
  sessionUsed: number;
  decision?: "granted" | "denied";
  denyReason?: "insufficient_credits" | "session_budget";
}

/** What the ledger remembers of an eventId: its fingerprint and how it was answered. */
export interface EventRecord {
  fingerprint: Record<string, unknown>;
  decision?: "granted" | "denied";
  denyReason?: "insufficient_credits" | "session_budget";
}

const FINGERPRINT = ["type", "sessionId", "stepId", "action", "model", "scenes", "seconds"] as const;

/** `scenes: 1` is the per-scene default: the same event as no scenes (event-batch.ts fingerprintValues). */
export function fingerprint(e: StageEvent): Record<string, unknown> {
  return Object.fromEntries(FINGERPRINT.map((f) => [f, f === "scenes" && e[f] === 1 ? undefined : e[f]]));
}

/** The first fingerprint field that differs, or null. */
export function differingField(a: Record<string, unknown>, b: Record<string, unknown>): string | null {
  return FINGERPRINT.find((f) => a[f] !== b[f]) ?? null;
}

const quantities = (e: StageEvent) => ({
  action: e.action as Action,
  model: e.model,
  scenes: e.scenes,
  seconds: e.seconds,
});

/**
 * Applies one event to a caught-up account; returns the answer or an error code. `reached` hears
 * of a session whose budget this event used up (CONTRACT §10).
 */
export function applyEvent(
  a: ModelAccount,
  records: Map<string, EventRecord>,
  e: StageEvent,
  now: number,
  ttlMs: number,
  flags: Flags,
  cov: Coverage,
  reached: (sessionId: string) => void = () => undefined,
): ModelResult | { error: string; field?: string } {
  const ses = session(a, e.sessionId);
  const answer = (status: ModelResult["status"], charged = 0, heldNow = 0): ModelResult => ({
    status,
    charged,
    held: heldNow,
    available: available(a),
    sessionUsed: ses.used,
  });
  const previous = records.get(e.eventId);
  if (previous) {
    const field = differingField(previous.fingerprint, fingerprint(e));
    if (field && flags.eventConflict) {
      cov.count("event conflict");
      return { error: "conflict", field };
    }
    cov.count(field ? "event reuse (v1 duplicate)" : "duplicate");
    // A repeat answers before the alerts are looked at (nothing changed).
    const r = answer("duplicate");
    if (previous.decision && e.type === "stage.started") {
      r.decision = previous.decision;
      if (previous.decision === "denied" && flags.denyReason)
        r.denyReason = previous.denyReason ?? "insufficient_credits";
    }
    return r;
  }
  const remember = (decision?: "granted" | "denied", denyReason?: EventRecord["denyReason"]): void => {
    records.set(e.eventId, {
      fingerprint: fingerprint(e),
      ...(decision ? { decision } : {}),
      ...(denyReason ? { denyReason } : {}),
    });
  };
  const checkReached = (): void => {
    if (!reachBudget(ses, now)) return;
    cov.count("budget reached");
    reached(e.sessionId);
  };
  const ref = `${e.sessionId}/${e.stepId}`;
  const state = a.steps.get(ref);
  const refs = { eventId: e.eventId, sessionId: e.sessionId, action: e.action };

  if (
    state === "completed" ||
    state === "failed" ||
    (e.type === "stage.started" && (state === "held" || a.holds.has(ref)))
  ) {
    remember();
    cov.count(e.type === "stage.progress" ? "progress after end" : "ignored");
    return answer("ignored");
  }
  if (e.type === "stage.progress") {
    remember();
    cov.count("event applied");
    return answer("applied");
  }
  if (e.type === "stage.started") {
    const quote = holdOf(quantities(e), a.plan);
    if (state === "denied") cov.count("retry of a denied step");
    // CONTRACT §10: a hold past the session's budget is denied; a zero-credit hold never is, and
    // a shortage of credits is the reason given when both fall short.
    const overBudget = quote > 0 && ses.budget !== null && ses.used + ses.reserved + quote > ses.budget.credits;
    if (quote > available(a) || overBudget) {
      const reason = quote > available(a) ? "insufficient_credits" : "session_budget";
      a.steps.set(ref, "denied");
      remember("denied", reason);
      cov.count(reason === "session_budget" ? "denied by budget" : "denied");
      if (overBudget && reason === "insufficient_credits") cov.count("denied, budget short too");
      const r = answer("denied");
      r.decision = "denied";
      if (flags.denyReason) r.denyReason = reason;
      return r;
    }
    if (state === "denied") cov.count("denied then granted");
    if (quote === 0) cov.count("zero hold");
    a.placed += 1;
    a.holds.set(ref, { amount: quote, expiresAt: now + ttlMs, order: a.placed, sessionId: e.sessionId });
    ses.reserved += quote;
    a.steps.set(ref, "held");
    if (quote > 0) entry(a, now, "hold", quote, refs);
    remember("granted");
    cov.count("event applied");
    checkReached();
    const r = answer("applied", 0, quote);
    r.decision = "granted";
    return r;
  }
  // completed or failed: the step ends and its hold (what is left of it) is released.
  const released = releaseHold(a, ref);
  if (released > 0) entry(a, now, "release", released, refs);
  let charged = 0;
  if (e.type === "stage.completed") {
    if (state === undefined) cov.count("completed before started");
    charged = chargeOf(quantities(e), a.plan);
    // Work done is charged in full, from credits not held by others; the rest is overdraft.
    const drawn = draw(a, Math.min(charged, available(a)));
    if (drawn < charged) cov.count("overdraft");
    a.overdraft += charged - drawn;
    if (!a.cycle || now >= a.cycle.start) a.used += charged;
    a.charges.push({ at: now, amount: charged });
    ses.used += charged;
    ses.byStage[PRICES[e.action as Action].stage] += charged;
    entry(a, now, "charge", charged, refs);
    a.steps.set(ref, "completed");
    if (ses.budget && ses.used > ses.budget.credits) cov.count("charged past the budget");
    checkReached();
  } else {
    a.steps.set(ref, "failed");
  }
  remember();
  cov.count("event applied");
  return answer("applied", charged);
}
