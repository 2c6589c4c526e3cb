import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.js";

// CREDITMETER_TEST_KILL_AFTER_LEDGER SIGKILLs the consumer after the ledger script: it must never
// be usable in a real deployment, whatever NODE_ENV is set to there.
describe("CREDITMETER_TEST_KILL_AFTER_LEDGER", () => {
  it.each([undefined, "production", "development", "TEST"])("is refused with NODE_ENV=%j", (nodeEnv) => {
    let thrown: unknown;
    try {
      loadConfig({
        CREDITMETER_TEST_KILL_AFTER_LEDGER: "evt-1",
        CREDITMETER_AUTH_SECRET: "a-secret-long-enough-for-production-0123456789",
        ...(nodeEnv === undefined ? {} : { NODE_ENV: nodeEnv }),
      });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect(thrown instanceof ConfigError ? thrown.variable : "").toBe("CREDITMETER_TEST_KILL_AFTER_LEDGER");
  });

  it("is taken only with NODE_ENV=test, and is off when unset", () => {
    expect(loadConfig({ NODE_ENV: "test", CREDITMETER_TEST_KILL_AFTER_LEDGER: "evt-1" }).testKillAfterLedger).toBe(
      "evt-1",
    );
    expect(loadConfig({ NODE_ENV: "test" }).testKillAfterLedger).toBeUndefined();
  });
});
