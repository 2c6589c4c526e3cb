import type { LedgerOutcome } from "./outcome.js";
import { accountSide, toBalance, toSession, type ScriptReply } from "./reply.js";

/**
 * Turns the reply of an account script (pack, cycle, adjustment, alert dismissal, catch-up) into
 * what gets pushed. Stage events go through batchOutcomes (event-batch.ts).
 */
export function buildOutcome(accountId: string, reply: ScriptReply): LedgerOutcome {
  const at = new Date(reply.now ?? Date.now()).toISOString();
  const side = reply.account ? accountSide(reply.account, reply.burn) : null;
  return {
    accountId,
    result: null,
    changed: reply.changed ?? false,
    repush: false,
    balance: reply.account ? toBalance(accountId, reply.account) : null,
    sessions: Object.entries(reply.sessions ?? {}).map(([sid, raw]) => toSession(accountId, sid, raw, side)),
    alert: reply.alert
      ? { accountId, level: reply.alert.level, threshold: reply.alert.threshold, available: reply.alert.available, at }
      : null,
    denied: null,
    progress: null,
    charge: null,
    plan: reply.account?.plan ?? null,
    occurredAtMs: null,
  };
}
