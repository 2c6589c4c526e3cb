import { defineConfig } from "vitest/config";

// Tests run on the TypeScript sources: the "source" export condition points every
// @creditmeter/* import at src/, so no build is needed before `npm test`.
export default defineConfig({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"], externalConditions: ["source"] } },
  test: {
    globalSetup: ["test/support/redis-global.ts"],
    include: ["{shared,server,client}/src/**/*.test.ts", "client/{panel,reporter}/src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    typecheck: { enabled: true, include: ["**/*.test-d.ts"], tsconfig: "./test/tsconfig.json" },
  },
});
