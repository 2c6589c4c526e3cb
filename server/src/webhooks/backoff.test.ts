import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../config/config.js";
import { attemptsFor, retryDelayMs } from "./backoff.js";

// The retry rule of CONTRACT §7: first gap = the base, each gap ≥ 1.5× the one before, retries
// for at least 24 h; and the 10 s answer deadline is the default and the most allowed.
describe("webhook retry schedule", () => {
  for (const base of [30_000, 1000, 200, 10]) {
    it(`spans at least 24 h with growing gaps (base ${base} ms)`, () => {
      const attempts = attemptsFor(base);
      const gaps = Array.from({ length: attempts - 1 }, (_, i) => retryDelayMs(base, i + 1, "whd_test"));
      expect(gaps[0]).toBeGreaterThanOrEqual(base);
      expect(gaps[0]).toBeLessThanOrEqual(base * 1.2);
      for (let i = 1; i < gaps.length; i++) expect((gaps[i] ?? 0) / (gaps[i - 1] ?? 1)).toBeGreaterThanOrEqual(1.5);
      expect(gaps.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(86_400_000);
      // No more attempts than needed: one retry fewer would not span 24 h without the jitter.
      expect(base * (2 ** (attempts - 2) - 1)).toBeLessThan(86_400_000);
    });
  }

  it("13 attempts over about 34 h at the default base", () => {
    expect(attemptsFor(30_000)).toBe(13);
  });

  it("the same delivery and retry number always wait the same (recorded nextAttemptAt = BullMQ's wait)", () => {
    expect(retryDelayMs(30_000, 3, "whd_a")).toBe(retryDelayMs(30_000, 3, "whd_a"));
  });

  it("answers must end within 10 s by default; more is refused naming the variable", () => {
    expect(loadConfig({}).webhooks).toMatchObject({ timeoutMs: 10_000, retryBaseMs: 30_000, allowPrivate: true });
    expect(loadConfig({ NODE_ENV: "production", CREDITMETER_AUTH_SECRET: "x".repeat(32) }).webhooks.allowPrivate).toBe(false);
    expect(() => loadConfig({ CREDITMETER_WEBHOOK_TIMEOUT_MS: "20000" })).toThrow(ConfigError);
    expect(() => loadConfig({ CREDITMETER_WEBHOOK_TIMEOUT_MS: "20000" })).toThrow(/CREDITMETER_WEBHOOK_TIMEOUT_MS/);
  });
});
