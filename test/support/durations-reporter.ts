import { mkdirSync, writeFileSync } from "node:fs";
import { relative } from "node:path";
import type { Reporter, TestModule } from "vitest/node";

/**
 * Writes test-results/durations.json: each file's seconds with its hooks (a browser file's
 * beforeAll is most of it; the JSON report leaves hooks out). `node scripts/test-durations.mjs`
 * turns a full run's file into test/durations.json, the order test/support/slowest-first.ts uses.
 */
export default class DurationsReporter implements Reporter {
  onTestRunEnd(modules: readonly TestModule[]): void {
    const durations: Record<string, number> = {};
    for (const m of modules) {
      durations[relative(process.cwd(), m.moduleId)] = Math.round(m.diagnostic().duration / 100) / 10;
    }
    mkdirSync("test-results", { recursive: true });
    writeFileSync("test-results/durations.json", `${JSON.stringify(durations, null, 2)}\n`);
  }
}
