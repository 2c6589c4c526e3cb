import { z } from "zod";

export const ALERT_LEVELS = ["low", "critical", "exhausted"] as const;
export const AlertLevel = z.enum(ALERT_LEVELS);
export type AlertLevel = z.infer<typeof AlertLevel>;

export const Threshold = z.union([
  z.strictObject({ level: AlertLevel, percent: z.number().min(0).max(100) }),
  z.strictObject({ level: AlertLevel, credits: z.number().int().nonnegative() }),
]);
export type Threshold = z.infer<typeof Threshold>;

export const Thresholds = z
  .array(Threshold)
  .max(ALERT_LEVELS.length)
  .refine((list) => new Set(list.map((t) => t.level)).size === list.length, {
    message: "each level may appear once",
  });

/** The product's defaults (CONTRACT §7): 20 %, 5 % and 0 available. */
export const DEFAULT_THRESHOLDS: Threshold[] = [
  { level: "low", percent: 20 },
  { level: "critical", percent: 5 },
  { level: "exhausted", credits: 0 },
];

/** A threshold resolved to credits for a given total (used + held + available). */
export interface ResolvedThreshold {
  level: AlertLevel;
  credits: number;
}

/** Resolves thresholds to credits, percentages rounded down, most severe (lowest) first. */
export function resolveThresholds(list: Threshold[], total: number): ResolvedThreshold[] {
  return list
    .map((t) => ({ level: t.level, credits: "credits" in t ? t.credits : Math.floor((total * t.percent) / 100) }))
    .sort((a, b) => a.credits - b.credits || ALERT_LEVELS.indexOf(b.level) - ALERT_LEVELS.indexOf(a.level));
}

/** `round(100 × used / (used + held + available))`, 0 when the total is 0. */
export function usagePercent(used: number, held: number, available: number): number {
  const total = used + held + available;
  return total === 0 ? 0 : Math.round((100 * used) / total);
}
