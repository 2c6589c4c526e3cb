/**
 * Low-balance alerts in the reference model (CONTRACT §7, default thresholds): a level fires once
 * when a change moves `available` from above its threshold to at or below it, re-arms when it rises
 * above again; one change crossing several levels raises the most severe; dismissing hides it until
 * the next crossing. Thresholds are computed after the change, percentages rounded down.
 */
export type Level = "low" | "critical" | "exhausted";

const THRESHOLDS: { level: Level; percent?: number; credits?: number }[] = [
  { level: "low", percent: 20 },
  { level: "critical", percent: 5 },
  { level: "exhausted", credits: 0 },
];
const SEVERITY: Record<Level, number> = { low: 1, critical: 2, exhausted: 3 };

export interface AlertState {
  levels: Partial<Record<Level, "armed" | "fired">>;
  dismissed: boolean;
}

export const newAlertState = (): AlertState => ({ levels: {}, dismissed: false });

function credits(t: (typeof THRESHOLDS)[number], total: number): number {
  return t.credits ?? Math.floor((total * (t.percent ?? 0)) / 100);
}

/** After a change: updates the levels, returns the alert raised (or null). */
export function evaluate(
  s: AlertState,
  available: number,
  total: number,
): { level: Level; threshold: number; available: number } | null {
  let raised: { level: Level; threshold: number; available: number } | null = null;
  for (const t of THRESHOLDS) {
    const c = credits(t, total);
    if (available > c) s.levels[t.level] = "armed";
    else if (s.levels[t.level] === "armed") {
      s.levels[t.level] = "fired";
      if (!raised || SEVERITY[t.level] > SEVERITY[raised.level]) raised = { level: t.level, threshold: c, available };
    }
  }
  if (raised) s.dismissed = false;
  return raised;
}

/** The alert a balance shows: the most severe fired level, its threshold as it stands now. */
export function showing(s: AlertState, total: number): { level: Level; threshold: number; dismissed: boolean } | null {
  let best: (typeof THRESHOLDS)[number] | null = null;
  for (const t of THRESHOLDS) {
    if (s.levels[t.level] === "fired" && (!best || SEVERITY[t.level] > SEVERITY[best.level])) best = t;
  }
  return best ? { level: best.level, threshold: credits(best, total), dismissed: s.dismissed } : null;
}

/** Dismisses the showing alert if it is of that level. */
export function dismiss(s: AlertState, level: Level, total: number): void {
  const now = showing(s, total);
  if (now && now.level === level && !s.dismissed) s.dismissed = true;
}
