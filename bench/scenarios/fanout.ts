import type { ScenarioOptions } from "./options.js";
import { runLayouts } from "./latency.js";

/**
 * Scenario `fanout`: the latency step with 100 open panels per account only (a team account),
 * at a light and the target rate, so the big-account case can be run alone (`--only=fanout`).
 */
export async function fanout(opts: ScenarioOptions): Promise<unknown> {
  const rates = opts.quick ? [1000] : [200, 1000];
  return runLayouts(
    "fanout",
    "2b. Publish→panel latency, 100 panels per account",
    [{ label: "100 panels per account", perAccount: 100, rates }],
    opts,
  );
}
