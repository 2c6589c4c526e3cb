import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";
import SlowestFirst from "./test/support/slowest-first.js";

// Tests run on the TypeScript sources: the "source" export condition points every
// @creditmeter/* import at src/, so no build is needed before `npm test`.
export default defineConfig({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"], externalConditions: ["source"] } },
  test: {
    globalSetup: ["test/support/redis-global.ts"],
    include: [
      "{shared,server,client}/src/**/*.test.ts",
      "client/{panel,reporter}/src/**/*.test.ts",
      "test/**/*.test.ts",
    ],
    // At least two files at once, even on two cores: the suite waits on processes, Redis and the
    // browser more than on CPU (docs/decisions.md); CREDITMETER_TEST_WORKERS=1 runs one.
    maxWorkers: Number(process.env.CREDITMETER_TEST_WORKERS ?? Math.max(2, availableParallelism() - 1)),
    sequence: { sequencer: SlowestFirst },
    testTimeout: 60_000,
    hookTimeout: 60_000,
    typecheck: { enabled: true, include: ["**/*.test-d.ts"], tsconfig: "./test/tsconfig.json" },
  },
});
