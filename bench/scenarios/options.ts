/** What every scenario is run with. */
export interface ScenarioOptions {
  /** Fewer and smaller steps, so the whole bench finishes in under 2 minutes. */
  quick: boolean;
}
