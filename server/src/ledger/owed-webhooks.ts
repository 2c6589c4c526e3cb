// What a redelivered event answered `duplicate` still owes the webhook outbox (docs/webhooks.md
// "The gap"): rebuilt from the fields lib/apply.lua keeps in its idempotency record.
import type { DenyReason, SessionSnapshot, StageEvent } from "@creditmeter/shared";
import type { BatchReply } from "./event-batch.js";
import type { LedgerOutcome } from "./outcome.js";

type Owed = NonNullable<Extract<BatchReply["events"][number], { a: number }>["owed"]>;

/**
 * The alert and denial a duplicate's first application raised, rebuilt as they were then from its
 * record; and its session's budget_reached, as the session stands now, if that budget is still the
 * one it used up (its reachedAt is the first application's time).
 */
export function owedWebhooks(
  owed: Owed,
  base: { accountId: string; sessionId: string; stepId: string; action: StageEvent["action"] },
  dr: DenyReason | undefined,
  session: () => SessionSnapshot,
): NonNullable<LedgerOutcome["reraise"]> {
  const at = new Date(owed.t).toISOString();
  const available = owed.av ?? 0;
  const now = owed.br ? session() : null;
  return {
    budgetReached: now?.budget?.reachedAt === at ? now : null,
    alert:
      owed.al !== undefined
        ? { accountId: base.accountId, level: owed.al, threshold: owed.th ?? 0, available, at }
        : null,
    denied:
      owed.rq !== undefined
        ? { ...base, required: owed.rq, available, reason: dr ?? "insufficient_credits", at }
        : null,
  };
}
