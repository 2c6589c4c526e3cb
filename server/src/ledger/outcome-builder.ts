import type { EventResult, SessionUpdate, Stage, StageEvent } from "@creditmeter/shared";
import type { LedgerOutcome } from "./outcome.js";
import { availableOf, toBalance, toSession, type ScriptReply } from "./reply.js";

/** Turns a script's reply into what the processor returns and what gets pushed. */
export function buildOutcome(accountId: string, reply: ScriptReply, event: StageEvent | null, stage?: Stage): LedgerOutcome {
  const at = new Date(reply.now ?? Date.now()).toISOString();
  const balance = reply.account ? toBalance(accountId, reply.account) : null;
  const available = reply.account ? availableOf(reply.account) : 0;
  const eventSession = event && reply.session ? toSession(accountId, event.sessionId, reply.session) : null;
  // The event's own session is usually among the touched ones: build its snapshot once.
  const sessions: SessionUpdate[] = Object.entries(reply.sessions ?? {}).map(([sid, raw]) =>
    eventSession && sid === eventSession.sessionId ? eventSession : toSession(accountId, sid, raw),
  );
  if (reply.repush && eventSession) sessions.push(eventSession);

  let result: EventResult | null = null;
  if (reply.result) {
    result = {
      status: reply.result.status,
      charged: reply.result.charged,
      held: reply.result.held,
      available,
      sessionUsed: eventSession?.used ?? 0,
      ...(reply.result.decision && event?.type === "stage.started" ? { decision: reply.result.decision } : {}),
    };
  }
  const base = event ? { accountId, sessionId: event.sessionId, stepId: event.stepId, action: event.action, at } : null;
  return {
    accountId,
    result,
    changed: reply.changed ?? false,
    repush: reply.repush ?? false,
    balance,
    sessions,
    eventSession,
    alert: reply.alert ? { accountId, level: reply.alert.level, threshold: reply.alert.threshold, available: reply.alert.available, at } : null,
    denied: base && reply.denied ? { ...base, required: reply.denied.required, available: reply.denied.available } : null,
    progress:
      base && stage && reply.progress && event?.progress !== undefined ? { ...base, stage, progress: event.progress } : null,
    charge:
      event && stage && reply.charge
        ? { accountId, sessionId: event.sessionId, action: event.action, stage, model: event.model ?? null, amount: reply.charge.amount, at }
        : null,
    occurredAtMs: event ? Date.parse(event.occurredAt) : null,
  };
}
