import { z } from "zod";
import { AccountId, ActionId, Plan } from "./ids.js";
import { ByStage } from "./api.js";

// Quotes, plans and forecasts (CONTRACT §10 v1.1): what the items of a video would cost before
// any of it runs, and how far the credits go while it runs.

const Credits = z.number().int().nonnegative();

/** One line of a quote or a plan: the quantities of a stage event, `count` times (default 1). */
export const QuoteItem = z.strictObject({
  action: ActionId,
  model: z.string().min(1).max(64).optional(),
  scenes: z.number().int().min(1).max(1000).optional(),
  seconds: z.number().gt(0).lte(3600).optional(),
  count: z.number().int().min(1).max(10_000).optional(),
});
export type QuoteItem = z.infer<typeof QuoteItem>;

/** POST /v1/quote: the account's plan prices the items when `accountId` is given, else `plan`, else free. */
export const QuoteBody = z.strictObject({
  accountId: AccountId.optional(),
  plan: Plan.optional(),
  items: z.array(QuoteItem).min(1).max(500),
});
export type QuoteBody = z.infer<typeof QuoteBody>;

/** One priced line of a quote: `credits` is the line's total, `count` included. */
export const QuoteLine = z.object({
  action: ActionId,
  model: z.string().nullable(),
  scenes: z.number().int().nullable(),
  seconds: z.number().nullable(),
  count: Credits,
  credits: Credits,
});
export type QuoteLine = z.infer<typeof QuoteLine>;

/** The answer of POST /v1/quote; `available` and `shortfall` are null without an account. */
export const QuoteAnswer = z.object({
  total: Credits,
  byStage: ByStage,
  items: z.array(QuoteLine),
  plan: Plan,
  available: Credits.nullable(),
  shortfall: Credits.nullable(),
  priceBookVersion: z.string(),
});
export type QuoteAnswer = z.infer<typeof QuoteAnswer>;

/** PUT /v1/accounts/:accountId/sessions/:sessionId/plan: the work the session expects to do. */
export const PlanBody = z.strictObject({ items: z.array(QuoteItem).max(500) });
export type PlanBody = z.infer<typeof PlanBody>;

/**
 * A session's forecast (in its snapshot once it has a plan): `remaining` what the plan still
 * costs, `shortfall` how much of that the account's available credits do not cover, and how
 * fast the account spends (`runsOutInSeconds` null while nothing was charged in 5 minutes).
 */
export const SessionForecast = z.object({
  planned: Credits,
  remaining: Credits,
  shortfall: Credits,
  burnPerMinute: Credits,
  runsOutInSeconds: Credits.nullable(),
});
export type SessionForecast = z.infer<typeof SessionForecast>;
