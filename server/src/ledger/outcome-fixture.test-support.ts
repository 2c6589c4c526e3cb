// Test support (`*.test-support.ts`: typechecked, never built into dist/): a LedgerOutcome
// tests build upon.
import type { LedgerOutcome } from "./outcome.js";

/**
 * The outcome of a change to `accountId` that raised and pushed nothing (no result, balance,
 * session, alert or charge): a test spreads over it only what it looks at.
 */
export function quietOutcome(accountId: string, overrides: Partial<LedgerOutcome> = {}): LedgerOutcome {
  return {
    accountId,
    result: null,
    changed: true,
    balance: null,
    sessions: [],
    repush: false,
    alert: null,
    denied: null,
    progress: null,
    charge: null,
    plan: "free",
    occurredAtMs: null,
    ...overrides,
  };
}
