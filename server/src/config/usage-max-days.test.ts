// The longest /usage window by default: 92 days over Redis alone, the whole retention once history
// is in PostgreSQL and Redis keeps only a short hot window (docs/decisions.md, CONTRACT §11).
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.js";

const PG = "postgres://creditmeter@127.0.0.1:5432/creditmeter";

describe("CREDITMETER_USAGE_MAX_DAYS", () => {
  it("defaults to 92 days without history in PostgreSQL", () => {
    expect(loadConfig({}).usageMaxDays).toBe(92);
    expect(loadConfig({ CREDITMETER_DATABASE_URL: "" }).usageMaxDays).toBe(92);
  });

  it("defaults to the ledger retention with history in PostgreSQL", () => {
    expect(loadConfig({ CREDITMETER_DATABASE_URL: PG }).usageMaxDays).toBe(400);
    expect(loadConfig({ CREDITMETER_DATABASE_URL: PG, CREDITMETER_LEDGER_RETENTION_DAYS: "730" }).usageMaxDays).toBe(
      730,
    );
    // Never below what Redis alone allows.
    expect(loadConfig({ CREDITMETER_DATABASE_URL: PG, CREDITMETER_LEDGER_RETENTION_DAYS: "30" }).usageMaxDays).toBe(92);
  });

  it("stays at 92 days when the hot window is longer than that (reads would walk it in Redis)", () => {
    expect(loadConfig({ CREDITMETER_DATABASE_URL: PG, CREDITMETER_HOT_RETENTION_DAYS: "93" }).usageMaxDays).toBe(92);
  });

  it("takes a value that is set, with or without history", () => {
    expect(loadConfig({ CREDITMETER_USAGE_MAX_DAYS: "31" }).usageMaxDays).toBe(31);
    expect(loadConfig({ CREDITMETER_DATABASE_URL: PG, CREDITMETER_USAGE_MAX_DAYS: "31" }).usageMaxDays).toBe(31);
    expect(() => loadConfig({ CREDITMETER_USAGE_MAX_DAYS: "3661" })).toThrow(ConfigError);
  });
});
