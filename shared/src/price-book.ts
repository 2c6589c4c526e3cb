import { z } from "zod";
import { ACTIONS, Plan, Stage, type ActionId } from "./ids.js";
import defaultBook from "./price-book.json" with { type: "json" };

// A quote is a rate times at most 3,600 units (seconds) or 1,000 (scenes). Capping rates keeps
// every quote far below 2^53, the range in which the ledger's Lua handles credits exactly (it
// prints them with "%d"); a rate above a million credits per unit is a typo, not a price.
const Credits = z.number().int().nonnegative().max(1_000_000);

const PriceEntry = z
  .strictObject({
    stage: Stage,
    unit: z.enum(["flat", "scene", "second"]),
    /** The rate; absent only when `models` prices the action. */
    credits: Credits.optional(),
    /** Per-model rates (animation). */
    models: z.record(z.string().min(1).max(64), Credits).optional(),
    /** Per-plan rates that replace `credits` (images are free on plus and pro). */
    plans: z.partialRecord(Plan, Credits).optional(),
    /** The least a per-second hold reserves (voiceover, music). */
    minimumReservation: Credits.optional(),
    /** This action's hold time-to-live in seconds, overriding CREDITMETER_HOLD_TTL. */
    holdTtlSeconds: z.number().int().positive().optional(),
  })
  .refine((e) => (e.credits === undefined) !== (e.models === undefined), {
    message: "exactly one of credits or models must be set",
  })
  .refine((e) => e.models === undefined || e.unit === "second", {
    message: "models apply to per-second actions only",
  });
export type PriceEntry = z.infer<typeof PriceEntry>;

/** The versioned price book (CONTRACT §1): data, validated when loaded. */
export const PriceBookSchema = z.strictObject({
  version: z.string().min(1),
  actions: z.strictObject(
    Object.fromEntries(ACTIONS.map((a) => [a, PriceEntry])) as Record<ActionId, typeof PriceEntry>,
  ),
});
export type PriceBook = z.infer<typeof PriceBookSchema>;

/** Validates a price book; throws a zod error naming the bad field. */
export function parsePriceBook(input: unknown): PriceBook {
  return PriceBookSchema.parse(input);
}

/** The price book shipped with the product (the published pricing). */
export const DEFAULT_PRICE_BOOK: PriceBook = parsePriceBook(defaultBook);
