import { PLANS, forecastOf, type Forecast, type Plan } from "@creditmeter/shared";

/** What a session's forecast needs of its account, read by the same script as the session. */
export interface AccountSide {
  plan: Plan;
  available: number;
  /** C: the credits the account was charged over the last 5 minutes (lua/lib/burn.lua). */
  charged5m: number;
}

/**
 * The session hash's `planned` field (set-plan-6.lua): the plan's total on each plan, "<free>
 * <plus> <pro>", so that the forecast follows a change of the account's plan; "" removes it.
 */
export function plannedField(totals: Record<Plan, number> | null): string {
  return totals ? PLANS.map((p) => String(totals[p])).join(" ") : "";
}

/** The planned total on `plan`, or null when the session has no plan. */
export function plannedOn(field: string | undefined, plan: Plan): number | null {
  if (field === undefined || field === "") return null;
  const value = Number(field.split(" ")[PLANS.indexOf(plan)]);
  return Number.isSafeInteger(value) && value >= 0 ? value : null;
}

/** A session's forecast (CONTRACT §10), or null without a plan or without its account's side. */
export function sessionForecast(
  planned: string | undefined,
  used: number,
  reserved: number,
  side: AccountSide | null,
): Forecast | null {
  if (!side) return null;
  const total = plannedOn(planned, side.plan);
  if (total === null) return null;
  return forecastOf({ planned: total, used, reserved, available: side.available, charged5m: side.charged5m });
}
