/**
 * CONTRACT §1 as a table, typed in by hand: the model must not share the production price book or
 * pricing code, or a mistake there would be predicted instead of caught.
 */
export type Plan = "free" | "plus" | "pro";
export type Stage = "research" | "storyboard" | "keyframes" | "animation" | "voiceover";
export type Action =
  | "web_research"
  | "script"
  | "creative_brief"
  | "storyboard"
  | "brand_style"
  | "image"
  | "voiceover"
  | "music"
  | "animation"
  | "talking_head";

interface Price {
  stage: Stage;
  unit: "flat" | "scene" | "second";
  credits: number;
  /** Credits on plans that differ from `credits`. */
  plans?: Partial<Record<Plan, number>>;
  minimumReservation?: number;
  models?: Record<string, number>;
}

export const PRICES: Record<Action, Price> = {
  web_research: { stage: "research", unit: "flat", credits: 0 },
  script: { stage: "research", unit: "flat", credits: 1 },
  creative_brief: { stage: "research", unit: "flat", credits: 1 },
  storyboard: { stage: "storyboard", unit: "flat", credits: 1 },
  brand_style: { stage: "storyboard", unit: "flat", credits: 1 },
  image: { stage: "keyframes", unit: "scene", credits: 3, plans: { plus: 0, pro: 0 } },
  voiceover: { stage: "voiceover", unit: "second", credits: 1, minimumReservation: 30 },
  music: { stage: "voiceover", unit: "second", credits: 1, minimumReservation: 30 },
  animation: {
    stage: "animation",
    unit: "second",
    credits: 0,
    models: { "veo-3.1-fast": 10, "sora-2": 10, "veo-3.1": 20, "sora-2-pro": 20 },
  },
  talking_head: { stage: "animation", unit: "second", credits: 10 },
};

export const ACTIONS = Object.keys(PRICES) as Action[];
export const PLANS: readonly Plan[] = ["free", "plus", "pro"];
export const STAGES: readonly Stage[] = ["research", "storyboard", "keyframes", "animation", "voiceover"];

/** What an event asks the ledger to price. */
export interface Quantities {
  action: Action;
  model?: string;
  scenes?: number;
  seconds?: number;
}

function rate(q: Quantities, plan: Plan): number {
  const p = PRICES[q.action];
  if (p.models) {
    const r = q.model === undefined ? undefined : p.models[q.model];
    if (r === undefined) throw new Error(`model: no rate for ${q.action}/${String(q.model)}`);
    return r;
  }
  return p.plans?.[plan] ?? p.credits;
}

/** `stage.completed`: flat price, scenes × rate, or ceil(seconds) × rate. */
export function chargeOf(q: Quantities, plan: Plan): number {
  const p = PRICES[q.action];
  if (p.unit === "flat") return rate(q, plan);
  if (p.unit === "scene") return (q.scenes ?? 1) * rate(q, plan);
  if (q.seconds === undefined) throw new Error(`model: ${q.action} completed without seconds`);
  return Math.ceil(q.seconds) * rate(q, plan);
}

/** `stage.started`: the charge of the estimate, at least the action's minimum reservation. */
export function holdOf(q: Quantities, plan: Plan): number {
  const p = PRICES[q.action];
  if (p.unit !== "second") return chargeOf(q, plan);
  const estimate = q.seconds === undefined ? 0 : Math.ceil(q.seconds) * rate(q, plan);
  return Math.max(estimate, p.minimumReservation ?? 0);
}
