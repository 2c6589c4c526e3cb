import type { PriceBook, PriceEntry } from "./price-book.js";
import type { ActionId, Plan } from "./ids.js";

/** What a quote needs to know about an event. */
export interface Quantity {
  action: ActionId;
  model?: string | undefined;
  scenes?: number | undefined;
  seconds?: number | undefined;
}

export type Quote = { ok: true; credits: number } | { ok: false; field: string; message: string };

function rateOf(entry: PriceEntry, q: Quantity, plan: Plan): Quote {
  if (entry.models) {
    if (q.model === undefined) return { ok: false, field: "model", message: "required for this action" };
    const rate = Object.hasOwn(entry.models, q.model) ? entry.models[q.model] : undefined;
    if (rate === undefined) return { ok: false, field: "model", message: `unknown model "${q.model}"` };
    return { ok: true, credits: rate };
  }
  return { ok: true, credits: entry.plans?.[plan] ?? entry.credits ?? 0 };
}

function units(entry: PriceEntry, q: Quantity): number {
  if (entry.unit === "scene") return q.scenes ?? 1;
  if (entry.unit === "second") return Math.ceil(q.seconds ?? 0);
  return 1;
}

/** The credits that work done costs: flat, `scenes × rate`, or `ceil(seconds) × rate`. */
export function quoteCharge(book: PriceBook, q: Quantity, plan: Plan): Quote {
  const entry = book.actions[q.action];
  const rate = rateOf(entry, q, plan);
  if (!rate.ok) return rate;
  if (entry.unit === "second" && q.seconds === undefined) {
    return { ok: false, field: "seconds", message: "required for this action" };
  }
  return { ok: true, credits: units(entry, q) * rate.credits };
}

/**
 * What a charge is made of (CONTRACT §4 v1.1): `units` billed (ceil'd seconds or scenes; null for a
 * flat action) and the `rate` per unit on the plan (a flat action's price), so that
 * `(units ?? 1) × rate` is the charge's amount and a charge can be recomputed from its entry alone.
 */
export function chargeBasis(book: PriceBook, q: Quantity, plan: Plan): { ok: true; units: number | null; rate: number } | Extract<Quote, { ok: false }> {
  const entry = book.actions[q.action];
  const rate = rateOf(entry, q, plan);
  if (!rate.ok) return rate;
  return { ok: true, units: entry.unit === "flat" ? null : units(entry, q), rate: rate.credits };
}

/** The credits a `stage.started` reserves: the charge quote, at least the minimum reservation. */
export function quoteHold(book: PriceBook, q: Quantity, plan: Plan): Quote {
  const entry = book.actions[q.action];
  const minimum = entry.minimumReservation ?? 0;
  if (entry.unit === "second" && q.seconds === undefined && minimum > 0) {
    const rate = rateOf(entry, q, plan);
    return rate.ok ? { ok: true, credits: minimum } : rate;
  }
  const charge = quoteCharge(book, q, plan);
  return charge.ok ? { ok: true, credits: Math.max(charge.credits, minimum) } : charge;
}
