import { z } from "zod";
import { AccountId, ActionId, PLANS, Plan, STAGES, type Stage } from "./ids.js";
import { CreditmeterError, issuePath } from "./errors.js";
import type { PriceBook } from "./price-book.js";
import { quoteCharge } from "./pricing.js";
import { StageEventSchema, quantityProblem } from "./stage-event.js";
import type { ByStage } from "./api.js";

/**
 * How many items one quote or plan may list, and how often one item may repeat. A video is tens of
 * steps; the caps keep a request's pricing work (and any total: ≤ 200 × 1,000 × 3,600 s × the
 * price book's 1e6 cap < 2^53) bounded.
 */
export const MAX_QUOTE_ITEMS = 200;
export const MAX_QUOTE_COUNT = 1000;

/** One line of a quote or plan (CONTRACT §10): the quantities of a stage event, `count` times. */
export const QuoteItem = z.strictObject({
  action: ActionId,
  model: StageEventSchema.shape.model,
  scenes: StageEventSchema.shape.scenes,
  seconds: StageEventSchema.shape.seconds,
  count: z.number().int().min(1).max(MAX_QUOTE_COUNT).optional(),
});
export type QuoteItem = z.infer<typeof QuoteItem>;

export const QuoteItems = z.array(QuoteItem).max(MAX_QUOTE_ITEMS);

/** POST /v1/quote */
export const QuoteBody = z.strictObject({ accountId: AccountId.optional(), plan: Plan.optional(), items: QuoteItems });
export type QuoteBody = z.infer<typeof QuoteBody>;

/** PUT /v1/accounts/:accountId/sessions/:sessionId/plan (`items: []` removes the plan). */
export const PlanBody = z.strictObject({ items: QuoteItems });
export type PlanBody = z.infer<typeof PlanBody>;

const Credits = z.number().int().nonnegative();

/** A priced line: the item as the ledger would bill it (null where a quantity does not apply). */
export const QuoteLine = z.object({
  action: ActionId,
  model: z.string().nullable(),
  scenes: z.number().int().nullable(),
  seconds: z.number().nullable(),
  count: Credits,
  credits: Credits,
});
export type QuoteLine = z.infer<typeof QuoteLine>;

/** The answer of POST /v1/quote (CONTRACT §10). */
export const QuoteAnswer = z.object({
  total: Credits,
  byStage: z.object(Object.fromEntries(STAGES.map((s) => [s, Credits])) as Record<Stage, typeof Credits>),
  items: z.array(QuoteLine),
  plan: Plan,
  available: Credits.nullable(),
  shortfall: Credits.nullable(),
  priceBookVersion: z.string(),
});
export type QuoteAnswer = z.infer<typeof QuoteAnswer>;

/** What the items cost on a plan, before an account's balance is known. */
export interface ItemsQuote {
  total: number;
  byStage: ByStage;
  items: QuoteLine[];
}

/** `items.2.model` → `items[2].model`: how CONTRACT §10 names a bad item field. */
function bracketed(path: string): string {
  return path.replace(/\.(\d+)(?=\.|$)/g, "[$1]");
}

/**
 * Parses a body containing `items` with `schema`, naming a bad item field as `items[i].field`,
 * then checks each item against the stage event's rules for its action (quantityProblem).
 */
export function parseItemsBody<T extends { items: QuoteItem[] }>(
  schema: z.ZodType<T>,
  body: unknown,
  book: PriceBook,
): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue
      ? issue.code === "unrecognized_keys"
        ? bracketed([...issue.path, ...issue.keys].map(String).join("."))
        : bracketed(issuePath(issue))
      : "(root)";
    const what = issue?.code === "unrecognized_keys" ? "unknown field" : (issue?.message ?? "invalid value");
    throw new CreditmeterError("invalid_input", `invalid_input: ${field}: ${what}`, field);
  }
  parsed.data.items.forEach((item, i) => {
    const problem = quantityProblem(book, item, "quote");
    if (problem)
      throw new CreditmeterError(
        "invalid_input",
        `invalid_input: items[${i}].${problem.field}: ${problem.message}`,
        `items[${i}].${problem.field}`,
      );
  });
  return parsed.data;
}

/**
 * What `items` would be charged on `plan` (CONTRACT §10): each line as the ledger charges a
 * `stage.completed` with those quantities (quoteCharge), times `count`. Items must have passed
 * parseItemsBody; one that cannot be priced throws.
 */
export function quoteItems(book: PriceBook, items: readonly QuoteItem[], plan: Plan): ItemsQuote {
  const byStage = Object.fromEntries(STAGES.map((s) => [s, 0])) as ByStage;
  let total = 0;
  const lines = items.map((item, i): QuoteLine => {
    const entry = book.actions[item.action];
    const each = quoteCharge(book, item, plan);
    if (!each.ok)
      throw new CreditmeterError(
        "invalid_input",
        `invalid_input: items[${i}].${each.field}: ${each.message}`,
        `items[${i}].${each.field}`,
      );
    const count = item.count ?? 1;
    const credits = each.credits * count;
    byStage[entry.stage] += credits;
    total += credits;
    return {
      action: item.action,
      model: item.model ?? null,
      // A per-scene item without scenes is billed one scene, as the ledger bills such an event.
      scenes: entry.unit === "scene" ? (item.scenes ?? 1) : null,
      seconds: item.seconds ?? null,
      count,
      credits,
    };
  });
  return { total, byStage, items: lines };
}

/** The total of `items` on every plan: what a session's plan stores, so it follows a plan change. */
export function quoteOnEveryPlan(book: PriceBook, items: readonly QuoteItem[]): Record<Plan, number> {
  return Object.fromEntries(PLANS.map((p) => [p, quoteItems(book, items, p).total])) as Record<Plan, number>;
}
