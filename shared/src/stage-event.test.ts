import { describe, expect, it } from "vitest";
import { DEFAULT_PRICE_BOOK } from "./price-book.js";
import { parseStageEvent } from "./stage-event.js";

const opts = { book: DEFAULT_PRICE_BOOK, now: Date.parse("2026-11-25T12:00:00Z"), retentionMs: 30 * 86_400_000 };
const valid = {
  v: 1,
  eventId: "ev-1",
  type: "stage.started",
  accountId: "acct",
  sessionId: "s1",
  stepId: "step-1",
  action: "script",
  occurredAt: "2026-11-25T11:59:00Z",
};

describe("parseStageEvent error messages", () => {
  it("names an unknown field, quoting a name that would not read as one", () => {
    expect(() => parseStageEvent({ ...valid, credits: 5 }, opts)).toThrow("invalid_event: credits: unknown field");
    expect(() => parseStageEvent({ ...valid, " ": 5 }, opts)).toThrow('invalid_event: " ": unknown field');
  });

  it("accepts a valid event unchanged", () => {
    expect(parseStageEvent(valid, opts)).toEqual(valid);
  });
});
