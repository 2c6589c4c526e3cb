// What a redelivered event answered `duplicate` still owes the webhook outbox (docs/webhooks.md
// "The gap"): rebuilt from the fields lib/apply.lua keeps in its idempotency record; and what an
// ops change or a budget set still owes, from the text lib/raised.lua keeps in theirs.
import { AlertLevel, type DenyReason, type SessionSnapshot, type StageEvent } from "@creditmeter/shared";
import type { BatchReply } from "./event-batch.js";
import type { LedgerOutcome, RaisedRecord, Reraise } from "./outcome.js";

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
): Reraise {
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

/** The fields of a raised text (lua/lib/raised.lua): "<t>;<seq>;<level>;<threshold>;<available>;<br>". */
function parseRaised(text: string): { t: number; seq: number; al: string; th: number; av: number; br: boolean } {
  const [t = "0", seq = "0", al = "", th = "0", av = "0", br = ""] = text.split(";");
  return { t: Number(t), seq: Number(seq), al, th: Number(th), av: Number(av), br: br === "1" };
}

/**
 * What an ops change or a budget set still owes from its record (`owed`, lua/lib/raised.lua), rebuilt
 * as first raised: the alert with its time and the seq that keys it; the budget_reached, with the
 * session as it stands, only while that budget is still the one reached then.
 */
export function owedRaised(text: string, accountId: string, session: SessionSnapshot | null): Reraise {
  const r = parseRaised(text);
  const at = new Date(r.t).toISOString();
  const level = AlertLevel.safeParse(r.al);
  return {
    alert: level.success ? { accountId, level: level.data, threshold: r.th, available: r.av, at } : null,
    denied: null,
    budgetReached: r.br && session?.budget?.reachedAt === at ? session : null,
    seq: r.seq,
  };
}

/**
 * Sets `owed` and `raisedRecord` on the outcome of a call whose record (`key`, of `kind`) keeps
 * what it raised (`reply.raised`) or still owes (`reply.owed`: a grant's one text, or the pending
 * raises of the account or a session, oldest first); unchanged when neither.
 */
export function withRaised<O extends LedgerOutcome>(
  outcome: O,
  reply: { raised?: string; owed?: string | string[] },
  record: { kind: RaisedRecord["kind"]; key: string },
  session: SessionSnapshot | null = null,
): O {
  const owed = reply.owed === undefined ? [] : typeof reply.owed === "string" ? [reply.owed] : reply.owed;
  const raised = reply.raised === undefined || owed.includes(reply.raised) ? owed : [...owed, reply.raised];
  if (raised.length === 0) return outcome;
  return {
    ...outcome,
    owed: owed.length === 0 ? null : owed.map((text) => owedRaised(text, outcome.accountId, session)),
    raisedRecord: { ...record, raised },
  };
}
