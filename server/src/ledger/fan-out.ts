import type { Publisher } from "./api.js";
import type { LedgerOutcome } from "./outcome.js";

/** One Publisher that hands every outcome to several (sockets, /ops, metrics). */
export class FanOut implements Publisher {
  private readonly targets: Publisher[] = [];

  /** Adds a target; outcomes published after this reach it. */
  add(target: Publisher): void {
    this.targets.push(target);
  }

  publish(outcome: LedgerOutcome): void {
    for (const t of this.targets) t.publish(outcome);
  }
}
