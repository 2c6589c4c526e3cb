import type {
  AlertLevel,
  Balance,
  BalanceAlert,
  DenyReason,
  OkAck,
  SessionSnapshot,
  SessionUpdate,
  StageDenied,
  StageProgress,
  WatchAck,
} from "@creditmeter/shared";
import { STAGES } from "./stages.js";
import { anyOf, arrayOf, bool, credits, literal, nullable, num, object, oneOf, str, type Guard } from "./guards.js";

// What the server sends is checked like any other input: a malformed frame is dropped, never
// rendered, and never moves a seq gate forward. Hand-written guards, not zod (guards.ts says why);
// server-payloads.test.ts holds them to the contract's zod schemas.

const ALERT_LEVELS = ["low", "critical", "exhausted"] as const satisfies readonly AlertLevel[];
const level = oneOf(ALERT_LEVELS);
const DENY_REASONS = ["insufficient_credits", "session_budget"] as const satisfies readonly DenyReason[];
const stage = oneOf(STAGES);
// Actions are shown, never switched on: any non-empty name passes, so a new action needs no SDK release.
const action = str as Guard<StageProgress["action"]>;

const byStage = object({
  research: credits,
  storyboard: credits,
  keyframes: credits,
  animation: credits,
  voiceover: credits,
});
// (v1.1) The session's budget (CONTRACT §10), null when it has none.
const budget = nullable(object({ credits, remaining: credits, reachedAt: nullable(str) }));
const sessionFields = {
  accountId: str,
  sessionId: str,
  used: credits,
  reserved: credits,
  byStage,
  seq: credits,
  budget,
};
const snapshot = object(sessionFields) as Guard<SessionSnapshot>;
const ackError = object({ code: str, message: str });

export const SessionUpdatePayload = object({
  ...sessionFields,
  last: nullable(object({ eventId: str, action, amount: credits, at: str })),
}) as Guard<SessionUpdate>;

export const BalancePayload = object({
  accountId: str,
  plan: str,
  available: credits,
  used: credits,
  held: credits,
  overdraft: credits,
  usagePercent: credits,
  cycle: nullable(object({ cycleId: str, start: str, end: str })),
  buckets: arrayOf(object({})),
  alert: nullable(object({ level, threshold: credits, dismissed: bool })),
  seq: credits,
}) as Guard<Balance>;

export const AlertPayload = object({
  accountId: str,
  level,
  threshold: credits,
  available: credits,
  at: str,
}) as Guard<BalanceAlert>;

export const ProgressPayload = object({
  accountId: str,
  sessionId: str,
  stepId: str,
  action,
  stage,
  progress: num,
  at: str,
}) as Guard<StageProgress>;

export const DeniedPayload = object({
  accountId: str,
  sessionId: str,
  stepId: str,
  action,
  required: credits,
  available: credits,
  reason: oneOf(DENY_REASONS),
  at: str,
}) as Guard<StageDenied>;

export const WatchAckPayload = anyOf(
  object({ ok: literal(true), session: snapshot }),
  object({ ok: literal(false), error: ackError }),
) as Guard<WatchAck>;

export const OkAckPayload = anyOf(
  object({ ok: literal(true) }),
  object({ ok: literal(false), error: ackError }),
) as Guard<OkAck>;
