import type { StartDecision } from "@creditmeter/reporter";
import type { Forecast, QuoteItem } from "@creditmeter/shared";
import { DEMO_STEPS, demoPlan, type DemoStep } from "./demo-script.js";

/** The slice of a StageReporter the demo drives (a StageReporter fits). */
export interface DemoReporter {
  started(
    stepId: string,
    details: { action: DemoStep["action"]; model?: string; scenes?: number; seconds?: number },
  ): Promise<StartDecision>;
  progress(stepId: string, action: DemoStep["action"], progress: number): Promise<unknown>;
  completed(
    stepId: string,
    details: { action: DemoStep["action"]; model?: string; scenes?: number; seconds?: number },
  ): Promise<unknown>;
  /** Registers the session's plan (a StageReporter with its `http` option); skipped when absent. */
  plan?(items: QuoteItem[]): Promise<{ forecast: Forecast | null }>;
}

export interface PlayOptions {
  steps?: readonly DemoStep[];
  /** Multiplies every step's work time (0 for tests that only care about the ledger). */
  speed?: number;
  /** One line per step outcome, for the CLI. */
  log?: (line: string) => void;
  sleep?: (ms: number) => Promise<void>;
  /** Prefixed to every step id: a new run in the same session is new work, not a replay. */
  runId?: string;
}

/** What a played session did. */
export interface DemoSummary {
  completed: string[];
  denied: string[];
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Plays the demo session step by step as a worker would: ask for a hold, work (with progress),
 * report the actual amount. A denied step is skipped, as a worker without credits would stop it.
 */
export async function playDemoSession(reporter: DemoReporter, options: PlayOptions = {}): Promise<DemoSummary> {
  const { steps = DEMO_STEPS, speed = 1, log = () => undefined, sleep = defaultSleep } = options;
  const runId = options.runId ?? Date.now().toString(36);
  const summary: DemoSummary = { completed: [], denied: [] };
  // The plan first, so the forecast is on the panel from the first second.
  // A plan that cannot be registered costs the forecast, not the video: the run goes on.
  if (reporter.plan) {
    await reporter.plan(demoPlan(steps)).then(
      ({ forecast }) =>
        forecast &&
        log(`planned  ${forecast.planned} credits, ${forecast.remaining} to go, shortfall ${forecast.shortfall}`),
      (err: unknown) => log(`no plan  ${err instanceof Error ? err.message : String(err)}`),
    );
  }
  // Animation and voiceover run side by side in a real session; here they stay in order for a readable chat.
  for (const step of steps) {
    const stepId = `${runId}.${step.stepId}`;
    const quantities = { action: step.action, model: step.model, scenes: step.scenes };
    const decision = await reporter.started(stepId, { ...quantities, seconds: step.estimate });
    if (!decision.granted) {
      summary.denied.push(step.stepId);
      log(
        `denied   ${step.stepId}: ${decision.denyReason === "session_budget" ? "over the session's budget" : `${decision.available} credits available`}`,
      );
      continue;
    }
    await sleep((step.workMs / 2) * speed);
    await reporter.progress(stepId, step.action, 0.5);
    await sleep((step.workMs / 2) * speed);
    await reporter.completed(stepId, { ...quantities, seconds: step.seconds });
    summary.completed.push(step.stepId);
    log(`complete ${step.stepId}: ${step.label}`);
  }
  return summary;
}
