import { fmt } from "./stats.js";

/** What a drain measured per job, as the budget needs it. */
export interface DrainCost {
  perSecond: number;
  /** The worker's (or consumer's) CPU ms per job. */
  cpuMsPerJob: number | null;
  /** redis-server's CPU ms per job. */
  redisCpuMsPerJob: number | null;
}

/** Share of one core a process was busy during a drain. */
export function busy(perSecond: number, msPerJob: number | null): number | null {
  return msPerJob === null ? null : (perSecond * msPerJob) / 1000;
}

/**
 * The throughput target as a Redis budget. When both drains keep Redis about equally busy (it is
 * the bottleneck of both), the ratio is the no-op's Redis time per job over the pipeline's; so
 * `target`× allows the pipeline noop/target µs of Redis per job, and the ledger that minus the
 * no-op's. Returns a sentence for the report, or null without CPU figures.
 */
export function redisBudget(noop: DrainCost, pipeline: DrainCost, target: number): string | null {
  const a = noop.redisCpuMsPerJob;
  const b = pipeline.redisCpuMsPerJob;
  const busyA = busy(noop.perSecond, a);
  const busyB = busy(pipeline.perSecond, b);
  if (a === null || b === null || busyA === null || busyB === null) return null;
  const allowed = a / target;
  return (
    `Redis was ${fmt(busyA * 100, 0)}% busy draining for the no-op worker and ${fmt(busyB * 100, 0)}% for the pipeline ` +
    `(consumer ${fmt((busy(pipeline.perSecond, pipeline.cpuMsPerJob) ?? NaN) * 100, 0)}%). ` +
    `Redis time per job: no-op ${fmt(a * 1000, 1)} µs, pipeline ${fmt(b * 1000, 1)} µs (ratio of the two ${fmt(a / b)}). ` +
    `${target}× allows the pipeline ${fmt(allowed * 1000, 1)} µs of Redis per job, so the ledger ${fmt((allowed - a) * 1000, 1)} µs per event; ` +
    `it takes ${fmt((b - a) * 1000, 1)} µs.`
  );
}
