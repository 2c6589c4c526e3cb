import { readFileSync } from "node:fs";
import { relative } from "node:path";
import { BaseSequencer, type TestSpecification } from "vitest/node";

// The order files start in decides when the run ends: with two workers, a 35 s file started
// last finishes alone. vitest orders by the durations of the previous run on this machine, but
// CI runs in a fresh clone without them (it then orders by file size). test/durations.json keeps
// each file's seconds from a full run (`node scripts/test-durations.mjs` rewrites it), so the
// longest files start first everywhere and the workers finish together.
const DURATIONS = new URL("../durations.json", import.meta.url);

function readDurations(): Map<string, number> {
  try {
    const parsed: unknown = JSON.parse(readFileSync(DURATIONS, "utf8"));
    if (typeof parsed !== "object" || parsed === null) return new Map();
    return new Map(Object.entries(parsed).filter((e): e is [string, number] => typeof e[1] === "number"));
  } catch {
    return new Map(); // no file: vitest's own order
  }
}

/** Sorts test files longest first by test/durations.json; a file not in it counts as a median one. */
export default class SlowestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const durations = readDurations();
    if (durations.size === 0) return super.sort(files);
    const known = [...durations.values()].sort((a, b) => a - b);
    const median = known[Math.floor(known.length / 2)] ?? 0;
    const root = this.ctx.config.root;
    const seconds = (spec: TestSpecification): number => durations.get(relative(root, spec.moduleId)) ?? median;
    // Stable: files of equal weight keep vitest's own order.
    const ordered = await super.sort(files);
    return ordered
      .map((spec, index) => ({ spec, index, weight: seconds(spec) }))
      .sort((a, b) => b.weight - a.weight || a.index - b.index)
      .map(({ spec }) => spec);
  }
}
