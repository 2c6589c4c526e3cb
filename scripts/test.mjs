// Runs every test (vitest) and ends with the plain line CI reads: "N passed, M failed".
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { buildStale } from "./build-if-stale.mjs";

const chromium = process.env.CREDITMETER_CHROMIUM ?? "/usr/bin/chromium";
if (!existsSync(chromium)) {
  if (process.env.CI === "true") {
    // In CI the browser tests must run: .ci/run installs Chromium, so its absence is a failure.
    console.log(`${chromium} not found in CI: browser tests cannot run`);
    console.log("0 passed, 1 failed");
    process.exit(1);
  }
  console.log(`NOTE: ${chromium} not found: browser tests will be skipped (apt-get install -y chromium; see README).`);
}
// Tests load what the server serves from dist/ (the panel's script bundle at /sdk/, the pages):
// build what is missing or stale first, as `npm start` does, so no test depends on another's build.
buildStale(process.cwd(), (line) => console.log(line));
mkdirSync("test-results", { recursive: true });
const report = "test-results/vitest.json";
const run = spawnSync(
  "npx",
  [
    "vitest",
    "run",
    "--reporter=default",
    "--reporter=json",
    `--outputFile=${report}`,
    "--reporter=./test/support/durations-reporter.ts",
    ...process.argv.slice(2),
  ],
  { stdio: "inherit" },
);
let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync(report)) {
  const json = JSON.parse(readFileSync(report, "utf8"));
  passed = json.numPassedTests ?? 0;
  // A file that failed to load has no failed test of its own: count it once; a file whose tests
  // failed is already counted through them.
  const brokenFiles = (json.testResults ?? []).filter(
    (file) => file.status === "failed" && !(file.assertionResults ?? []).some((t) => t.status === "failed"),
  ).length;
  failed = (json.numFailedTests ?? 0) + brokenFiles;
  skipped = (json.numPendingTests ?? 0) + (json.numTodoTests ?? 0);
}
if (run.status !== 0 && failed === 0) failed = 1; // a crash before any report still fails
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(run.status ?? 1);
