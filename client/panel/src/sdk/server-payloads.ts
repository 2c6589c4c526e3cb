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
import {
  anyOf,
  arrayOf,
  bool,
  credits,
  literal,
  nullable,
  num,
  object,
  oneOf,
  optional,
  str,
  type Guard,
} from "./guards.js";
import type { QuoteAnswer } from "@creditmeter/shared";
import type { SessionState } from "./types.js";

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
// (v1.1, CONTRACT §10) `budget` and `forecast` may be absent (a server before v1.1): read as null.
const budget = object({ credits, remaining: credits, reachedAt: nullable(str) });
const forecast = object({
  planned: credits,
  remaining: credits,
  shortfall: credits,
  burnPerMinute: credits,
  runsOutInSeconds: nullable(credits),
});
const sessionFields = {
  accountId: str,
  sessionId: str,
  used: credits,
  reserved: credits,
  byStage,
  seq: credits,
  budget: optional(nullable(budget)),
  forecast: optional(nullable(forecast)),
};
/** A session snapshot as it arrives: budget and forecast absent from a server before v1.1. */
export type SessionFrame = Omit<SessionSnapshot, "budget" | "forecast"> &
  Partial<Pick<SessionState, "budget" | "forecast">>;
const snapshot = object(sessionFields) as Guard<SessionFrame>;
const ackError = object({ code: str, message: str });

export const SessionUpdatePayload = object({
  ...sessionFields,
  last: nullable(object({ eventId: str, action, amount: credits, at: str })),
}) as Guard<SessionFrame & Pick<SessionUpdate, "last">>;

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

/** The `session:budget` ack (CONTRACT §6 v1.1): the session after the change, or the refusal. */
export const BudgetAckPayload = WatchAckPayload;

/** The answer of POST /v1/quote (CONTRACT §10); the SDK reads the totals, the lines are passed on. */
export const QuotePayload = object({
  total: credits,
  byStage,
  items: arrayOf(object({ action, count: credits, credits })),
  plan: str,
  available: nullable(credits),
  shortfall: nullable(credits),
  priceBookVersion: str,
}) as unknown as Guard<QuoteAnswer>;

/** A REST error body (CONTRACT §4). */
export const ErrorPayload = object({ error: ackError });
