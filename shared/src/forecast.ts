import { z } from "zod";

const Credits = z.number().int().nonnegative();

/** (v1.1) A planned session's forecast (CONTRACT §10); null when the session has no plan. */
export const Forecast = z.object({
  planned: Credits,
  remaining: Credits,
  shortfall: Credits,
  burnPerMinute: Credits,
  runsOutInSeconds: Credits.nullable(),
});
export type Forecast = z.infer<typeof Forecast>;

/** What a forecast is computed from; `charged5m` is C, the account's charges over the last 5 minutes. */
export interface ForecastInput {
  planned: number;
  used: number;
  reserved: number;
  available: number;
  charged5m: number;
}

/**
 * CONTRACT §10's formulas: remaining = max(0, planned − used − reserved), shortfall =
 * max(0, remaining − available), burnPerMinute = round(C ÷ 5), runsOutInSeconds =
 * floor(available × 300 ÷ C) (0 and null while C is 0).
 */
export function forecastOf(f: ForecastInput): Forecast {
  const remaining = Math.max(0, f.planned - f.used - f.reserved);
  const c = f.charged5m;
  return {
    planned: f.planned,
    remaining,
    shortfall: Math.max(0, remaining - f.available),
    burnPerMinute: c > 0 ? Math.round(c / 5) : 0,
    runsOutInSeconds: c > 0 ? Math.floor((f.available * 300) / c) : null,
  };
}
