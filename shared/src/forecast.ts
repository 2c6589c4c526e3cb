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
