import type { ActionId, QuoteItem } from "@creditmeter/shared";

/** One unit of work of the demo session, as a generation worker would report it. */
export interface DemoStep {
  stepId: string;
  /** What the agent says in the chat while the step runs. */
  label: string;
  action: ActionId;
  model?: string;
  scenes?: number;
  /** Estimated seconds (the hold) for per-second actions. */
  estimate?: number;
  /** Actual seconds (the charge) for per-second actions. */
  seconds?: number;
  /** How long the step "works", in demo milliseconds. */
  workMs: number;
}

/**
 * A short agentic video session: research → storyboard → keyframes → animation and voiceover.
 * On the free plan it costs 160 credits, so a second run on a fresh 300-credit cycle crosses the
 * low-balance threshold and has steps denied.
 */
export const DEMO_STEPS: readonly DemoStep[] = [
  { stepId: "research", label: "Researching the topic", action: "web_research", workMs: 600 },
  { stepId: "script", label: "Writing the script", action: "script", workMs: 700 },
  { stepId: "brief", label: "Drafting the creative brief", action: "creative_brief", workMs: 500 },
  { stepId: "storyboard", label: "Creating the storyboard", action: "storyboard", workMs: 800 },
  { stepId: "brand-style", label: "Generating the brand style", action: "brand_style", workMs: 500 },
  { stepId: "keyframes", label: "Rendering 4 keyframes", action: "image", scenes: 4, workMs: 900 },
  {
    stepId: "scene-1",
    label: "Animating scene 1 (veo-3.1-fast)",
    action: "animation",
    model: "veo-3.1-fast",
    estimate: 6,
    seconds: 6,
    workMs: 1200,
  },
  {
    stepId: "scene-2",
    label: "Animating scene 2 (veo-3.1-fast)",
    action: "animation",
    model: "veo-3.1-fast",
    estimate: 6,
    seconds: 5.4,
    workMs: 1200,
  },
  {
    stepId: "voiceover",
    label: "Recording the voiceover",
    action: "voiceover",
    estimate: 24,
    seconds: 23.2,
    workMs: 1000,
  },
];

/**
 * The session's plan (CONTRACT §10): every step with the quantities its hold is quoted from, so
 * the panel's forecast ("about 160 more credits to finish" on the free plan) is there before the
 * first step starts.
 */
export function demoPlan(steps: readonly DemoStep[] = DEMO_STEPS): QuoteItem[] {
  return steps.map((step) => ({
    action: step.action,
    ...(step.model === undefined ? {} : { model: step.model }),
    ...(step.scenes === undefined ? {} : { scenes: step.scenes }),
    ...(step.estimate === undefined ? {} : { seconds: step.estimate }),
  }));
}
