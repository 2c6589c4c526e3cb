import { DEFAULT_PRICE_BOOK, quoteCharge, type ActionId, type Plan, type StageEvent } from "@creditmeter/shared";

/** A small deterministic PRNG (mulberry32): the same seed gives the same workload. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates with the given random source. */
export function shuffle<T>(items: T[], rand: () => number): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j] as T, a[i] as T];
  }
  return a;
}

/** One step's action and quantities. */
export interface StepSpec {
  action: ActionId;
  model?: string;
  scenes?: number;
  seconds?: number;
}

/** A realistic mix of the actions a session runs. */
export const STEP_SPECS: StepSpec[] = [
  { action: "web_research" },
  { action: "script" },
  { action: "creative_brief" },
  { action: "storyboard" },
  { action: "brand_style" },
  { action: "image", scenes: 3 },
  { action: "voiceover", seconds: 12.5 },
  { action: "music", seconds: 31 },
  { action: "animation", model: "veo-3.1-fast", seconds: 4 },
  { action: "animation", model: "sora-2-pro", seconds: 2.5 },
  { action: "talking_head", seconds: 3 },
];

export interface Workload {
  events: StageEvent[];
  /** What a straightforward model of the contract says each account and session ends with. */
  expected: Map<string, { charged: number; sessions: Map<string, { used: number; byStage: Record<string, number> }> }>;
}

/**
 * Steps for many accounts and sessions: each started, maybe progressed, then completed (80 %) or
 * failed; every step ends, so no hold may be left open. Charges do not depend on order, so the
 * expected totals are exact whatever the delivery order.
 */
export function buildWorkload(opts: { accounts: string[]; sessionsPerAccount: number; stepsPerSession: number; plan: Plan; seed: number; tag: string }): Workload {
  const rand = prng(opts.seed);
  const events: StageEvent[] = [];
  const expected: Workload["expected"] = new Map();
  const at = new Date().toISOString();
  let id = 0;
  const ev = (e: Omit<StageEvent, "v" | "eventId" | "occurredAt">): StageEvent => ({ v: 1, eventId: `${opts.tag}-${++id}`, occurredAt: at, ...e });
  for (const accountId of opts.accounts) {
    const acc = { charged: 0, sessions: new Map<string, { used: number; byStage: Record<string, number> }>() };
    expected.set(accountId, acc);
    for (let s = 0; s < opts.sessionsPerAccount; s++) {
      const sessionId = `sess-${s}`;
      const ses = { used: 0, byStage: { research: 0, storyboard: 0, keyframes: 0, animation: 0, voiceover: 0 } as Record<string, number> };
      acc.sessions.set(sessionId, ses);
      for (let k = 0; k < opts.stepsPerSession; k++) {
        const spec = STEP_SPECS[Math.floor(rand() * STEP_SPECS.length)] ?? { action: "script" };
        const stepId = `step-${k}`;
        const base = { accountId, sessionId, stepId, ...spec };
        events.push(ev({ ...base, type: "stage.started" }));
        if (rand() < 0.3) {
          const { model: _m, scenes: _s, seconds: _sec, ...rest } = base;
          events.push(ev({ ...rest, ...(spec.model ? { model: spec.model } : {}), type: "stage.progress", progress: 0.5 }));
        }
        if (rand() < 0.8) {
          const actual = spec.seconds !== undefined ? { seconds: spec.seconds + Math.floor(rand() * 5) } : {};
          const done = ev({ ...base, ...actual, type: "stage.completed" });
          events.push(done);
          const q = quoteCharge(DEFAULT_PRICE_BOOK, done, opts.plan);
          const credits = q.ok ? q.credits : 0;
          const stage = DEFAULT_PRICE_BOOK.actions[spec.action].stage;
          acc.charged += credits;
          ses.used += credits;
          ses.byStage[stage] = (ses.byStage[stage] ?? 0) + credits;
        } else {
          const { model, scenes: _s, seconds: _sec, ...rest } = base;
          events.push(ev({ ...rest, ...(model ? { model } : {}), type: "stage.failed", reason: "worker gave up" }));
        }
      }
    }
  }
  return { events, expected };
}
