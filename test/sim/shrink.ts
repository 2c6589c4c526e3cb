/**
 * Shrinks a failing history to a short reproduction: drops chunks of operations (halving the
 * chunk until single operations), then single events of batches and crash flags, keeping each cut
 * that still fails the same check. Each try is a fresh run in a namespace of its own.
 */
import { runHistory, type SimEnv, type SimFailure } from "./run.js";
import type { History, Op } from "./ops.js";

/** The check with ids and numbers blurred: "the same failure" after a cut renames nothing. */
const kindOf = (f: SimFailure): string => f.check.replace(/[0-9]+/g, "#");

export async function shrink(
  history: History,
  env: SimEnv,
  failure: SimFailure,
  budget = { runs: 400, ms: 180_000 },
): Promise<{ history: History; failure: SimFailure; runs: number }> {
  const until = Date.now() + budget.ms;
  let runs = 0;
  let best = failure;
  let ops = history.ops.slice(0, failure.step + 1);
  const left = (): boolean => runs < budget.runs && Date.now() < until;
  const fails = async (candidate: Op[]): Promise<SimFailure | null> => {
    runs += 1;
    const r = await runHistory({ ...history, ops: candidate }, env);
    return r.failure && kindOf(r.failure) === kindOf(failure) ? r.failure : null;
  };
  const keep = (candidate: Op[], f: SimFailure): void => {
    ops = candidate.slice(0, f.step + 1);
    best = f;
  };

  for (let chunk = Math.max(1, Math.ceil(ops.length / 2)); chunk >= 1 && left();) {
    let cut = false;
    for (let i = 0; i < ops.length && left();) {
      const candidate = [...ops.slice(0, i), ...ops.slice(i + chunk)];
      const f = candidate.length > 0 ? await fails(candidate) : null;
      if (f) {
        keep(candidate, f);
        cut = true;
      } else i += chunk;
    }
    if (!cut) chunk = Math.floor(chunk / 2);
  }
  // Inside batches: fewer events, no crash.
  for (let i = 0; i < ops.length && left(); i++) {
    const op = ops[i];
    if (op?.op !== "batch") continue;
    if (op.crash) {
      const candidate = ops.with(i, { ...op, crash: false });
      const f = await fails(candidate);
      if (f) keep(candidate, f);
    }
    for (let j = 0; left();) {
      const cur = ops[i];
      if (cur?.op !== "batch" || j >= cur.events.length || cur.events.length <= 1) break;
      const candidate = ops.with(i, { ...cur, events: cur.events.filter((_, k) => k !== j) });
      const f = await fails(candidate);
      if (f) keep(candidate, f);
      else j += 1;
    }
  }
  return { history: { ...history, ops }, failure: best, runs };
}
