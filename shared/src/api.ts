import { z } from "zod";
import { AccountId, ActionId, EventId, GrantId, IsoTime, Plan, SessionId, Stage, TrailText } from "./ids.js";
import { AlertLevel, Thresholds } from "./thresholds.js";
import { Forecast } from "./forecast.js";

const Credits = z.number().int().nonnegative();

/** PUT /v1/accounts/:accountId */
export const PutAccountBody = z.strictObject({ plan: Plan, lowBalanceThresholds: Thresholds.optional() });
export type PutAccountBody = z.infer<typeof PutAccountBody>;

/** POST /v1/accounts/:accountId/cycles */
export const CycleBody = z
  .strictObject({ cycleId: GrantId, credits: Credits.max(1e12), start: IsoTime, end: IsoTime })
  .refine((c) => Date.parse(c.end) > Date.parse(c.start), { message: "must be after start", path: ["end"] });
export type CycleBody = z.infer<typeof CycleBody>;

/** POST /v1/accounts/:accountId/packs */
export const PackBody = z.strictObject({ packId: GrantId, credits: Credits.min(1).max(1e12) });
export type PackBody = z.infer<typeof PackBody>;

/** POST /v1/accounts/:accountId/adjustments: signed, never zero. */
export const AdjustmentBody = z.strictObject({
  adjustmentId: GrantId,
  credits: z
    .number()
    .int()
    .min(-1e12)
    .max(1e12)
    .refine((n) => n !== 0, "must not be zero"),
  reason: TrailText.min(1).max(500),
});
export type AdjustmentBody = z.infer<typeof AdjustmentBody>;

export const BucketKind = z.enum(["subscription", "pack", "adjustment"]);
export const Bucket = z.object({
  id: z.string(),
  kind: BucketKind,
  granted: Credits,
  remaining: Credits,
  expiresAt: IsoTime.nullable(),
});
export type Bucket = z.infer<typeof Bucket>;

export const AlertState = z.object({ level: AlertLevel, threshold: Credits, dismissed: z.boolean() });
export type AlertState = z.infer<typeof AlertState>;

/** GET /v1/accounts/:accountId/balance (CONTRACT §4, fixed fields). */
export const Balance = z.object({
  accountId: AccountId,
  plan: Plan,
  available: Credits,
  used: Credits,
  held: Credits,
  overdraft: Credits,
  usagePercent: Credits,
  cycle: z.object({ cycleId: z.string(), start: IsoTime, end: IsoTime }).nullable(),
  buckets: z.array(Bucket),
  alert: AlertState.nullable(),
  seq: Credits,
});
export type Balance = z.infer<typeof Balance>;

export const ByStage = z.object({
  research: Credits,
  storyboard: Credits,
  keyframes: Credits,
  animation: Credits,
  voiceover: Credits,
});
export type ByStage = z.infer<typeof ByStage>;

/**
 * (v1.1) A session's budget (CONTRACT §10): `remaining = max(0, credits − used − reserved)`;
 * `reachedAt` is when `remaining` first reached 0 since this budget was set (the moment the
 * `session.budget_reached` webhook fires), null before.
 */
export const SessionBudget = z.object({ credits: Credits, remaining: Credits, reachedAt: IsoTime.nullable() });
export type SessionBudget = z.infer<typeof SessionBudget>;

/** (v1.1) PUT /v1/accounts/:accountId/sessions/:sessionId/budget: whole credits, or null to remove it. */
export const BudgetBody = z.strictObject({ credits: Credits.max(1e12).nullable() });
export type BudgetBody = z.infer<typeof BudgetBody>;

/** GET /v1/accounts/:accountId/sessions/:sessionId */
export const SessionSnapshot = z.object({
  accountId: AccountId,
  sessionId: SessionId,
  used: Credits,
  reserved: Credits,
  byStage: ByStage,
  seq: Credits,
  // (v1.1) null when the session has no budget.
  budget: SessionBudget.nullable(),
  // (v1.1) CONTRACT §10: null when the session has no plan.
  forecast: Forecast.nullable(),
});
export type SessionSnapshot = z.infer<typeof SessionSnapshot>;

export const USAGE_GROUPS = ["action", "stage", "model", "session", "day"] as const;
export const UsageQuery = z.strictObject({
  from: IsoTime.optional(),
  to: IsoTime.optional(),
  groupBy: z.enum(USAGE_GROUPS).default("action"),
});
export type UsageQuery = z.infer<typeof UsageQuery>;

export const Usage = z.object({
  from: IsoTime,
  to: IsoTime,
  groupBy: z.enum(USAGE_GROUPS),
  total: Credits,
  groups: z.array(z.object({ key: z.string(), credits: Credits, count: Credits })),
});
export type Usage = z.infer<typeof Usage>;

export const LEDGER_KINDS = ["grant", "hold", "release", "charge", "expiry", "forfeit", "adjustment"] as const;
export const LedgerQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z
    .string()
    .regex(/^\d{1,16}-\d{1,10}$/, "must be a cursor from a previous page")
    .optional(),
});
export type LedgerQuery = z.infer<typeof LedgerQuery>;

export const LedgerEntry = z.object({
  id: z.string(),
  at: IsoTime,
  kind: z.enum(LEDGER_KINDS),
  amount: z.number().int(),
  eventId: z.string().nullable(),
  sessionId: z.string().nullable(),
  action: z.string().nullable(),
  balanceAfter: z.object({ available: Credits, held: Credits, overdraft: Credits }),
  // (v1.1) A charge carries what it was computed from: `units` billed (null for flat actions) ×
  // `rate` = `amount`, with the `model` and the price book's version.
  units: z.number().int().nullable().optional(),
  rate: Credits.nullable().optional(),
  model: z.string().nullable().optional(),
  priceBookVersion: z.string().nullable().optional(),
  // (v1.1) A `grant` or `adjustment` names who posted it: the token's `sub` or the API key's id
  // (null for grants made before v1.1 or outside the HTTP API).
  actor: z.string().nullable().optional(),
  // An `adjustment`'s amount is a positive magnitude, like every amount; this says which way it went.
  direction: z.enum(["credit", "debit"]).optional(),
});
export type LedgerEntry = z.infer<typeof LedgerEntry>;
export const LedgerPage = z.object({ entries: z.array(LedgerEntry), nextCursor: z.string().nullable() });
export type LedgerPage = z.infer<typeof LedgerPage>;

/** Why a stage.started was denied (CONTRACT §2 v1.1): `session_budget` comes with budgets (§10). */
export const DENY_REASONS = ["insufficient_credits", "session_budget"] as const;
export const DenyReason = z.enum(DENY_REASONS);
export type DenyReason = z.infer<typeof DenyReason>;

/** The processor's return value (CONTRACT §2, fixed fields). */
export const EventResult = z.object({
  status: z.enum(["applied", "denied", "duplicate", "ignored"]),
  charged: Credits,
  held: Credits,
  available: Credits,
  sessionUsed: Credits,
  decision: z.enum(["granted", "denied"]).optional(),
  // (v1.1) On a denied started and on its duplicate.
  denyReason: DenyReason.optional(),
});
export type EventResult = z.infer<typeof EventResult>;

/** POST /v1/events answer. */
export const EventAccepted = z.object({ eventId: EventId });

export const ErrorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.object({ field: z.string().optional() }).passthrough().optional(),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

export { ActionId, Stage };
