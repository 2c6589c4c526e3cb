/**
 * Real against model: deep equality with a path to the first difference, and the audit-trail
 * comparison (entries whose order the contract does not fix are compared as a set).
 */
import type { LedgerEntry } from "@creditmeter/shared";
import type { ModelEntry } from "./model/state.js";

/** A difference between the real ledger and the model, or a broken invariant. */
export class Mismatch extends Error {
  constructor(
    readonly check: string,
    readonly expected: unknown,
    readonly actual: unknown,
  ) {
    super(`${check}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
    this.name = "Mismatch";
  }
}

/** The path of the first difference between two JSON values, or null when equal. */
export function firstDifference(expected: unknown, actual: unknown, path = ""): string | null {
  if (Object.is(expected, actual)) return null;
  if (typeof expected !== "object" || typeof actual !== "object" || expected === null || actual === null)
    return path || "(value)";
  if (Array.isArray(expected) !== Array.isArray(actual)) return path || "(value)";
  const keys = new Set([...Object.keys(expected), ...Object.keys(actual)]);
  for (const k of keys) {
    const d = firstDifference(
      (expected as Record<string, unknown>)[k],
      (actual as Record<string, unknown>)[k],
      `${path}.${k}`,
    );
    if (d) return d;
  }
  return null;
}

/** Throws a Mismatch naming the first differing path. */
export function expectSame(check: string, expected: unknown, actual: unknown): void {
  const d = firstDifference(expected, actual);
  if (d !== null) throw new Mismatch(`${check} ${d}`, expected, actual);
}

interface Comparable {
  kind: string;
  amount: number;
  eventId: string | null;
  sessionId: string | null;
  action: string | null;
  at: string;
  balanceAfter: { available: number; held: number; overdraft: number };
  timed: boolean;
}

const fromModel = (e: ModelEntry): Comparable => ({ ...e, at: new Date(e.at).toISOString(), timed: e.timed === true });
// A hold that ran out of time is the only release or expiry with a session and no eventId.
const fromReal = (e: LedgerEntry): Comparable => ({
  kind: e.kind,
  amount: e.amount,
  eventId: e.eventId,
  sessionId: e.sessionId,
  action: e.action,
  at: e.at,
  balanceAfter: e.balanceAfter,
  timed: (e.kind === "release" || e.kind === "expiry") && e.eventId === null && e.sessionId !== null,
});

/**
 * Entries of one operation, oldest first. Holds that expire together are written in no order the
 * contract fixes: each such run is compared as a set of (kind, amount, session), and by the
 * balance after its last entry. Expired holds that had shrunk to nothing are left out on both sides.
 */
function canonical(list: Comparable[]): unknown[] {
  const kept = list.filter((e) => !(e.timed && e.amount === 0));
  const out: unknown[] = [];
  for (let i = 0; i < kept.length;) {
    const e = kept[i] as Comparable;
    if (!e.timed) {
      const { timed: _t, ...rest } = e;
      out.push(rest);
      i += 1;
      continue;
    }
    let j = i;
    while (j < kept.length && kept[j]?.timed) j += 1;
    const run = kept.slice(i, j);
    out.push({
      expired: run.map((x) => `${x.kind} ${x.amount} ${x.sessionId ?? ""}`).sort(),
      at: e.at,
      balanceAfter: run.at(-1)?.balanceAfter,
    });
    i = j;
  }
  return out;
}

/** Compares the entries one operation wrote to an account. */
export function expectEntries(check: string, expected: ModelEntry[], actual: LedgerEntry[]): void {
  expectSame(check, canonical(expected.map(fromModel)), canonical(actual.map(fromReal)));
}
