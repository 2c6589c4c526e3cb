import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { EVENT_ID_PATTERN, STAGE_EVENT_TYPES } from "@creditmeter/shared";
import { stageEventId, type EventIdInput } from "./event-id.js";

const idChar = fc.constantFrom(..."abcXYZ019._-");
const accountArb = fc
  .tuple(fc.constantFrom(..."aZ0"), fc.array(idChar, { maxLength: 63 }))
  .map(([h, t]) => h + t.join(""));
const stepArb = fc
  .tuple(fc.constantFrom(..."aZ0"), fc.array(idChar, { maxLength: 127 }))
  .map(([h, t]) => h + t.join(""));
const inputArb: fc.Arbitrary<EventIdInput> = fc.record({
  accountId: accountArb,
  sessionId: accountArb,
  stepId: stepArb,
  type: fc.constantFrom(...STAGE_EVENT_TYPES),
  attempt: fc.integer({ min: 1, max: 1_000_000 }),
});

const base: EventIdInput = { accountId: "acme", sessionId: "s1", stepId: "scene-1", type: "stage.started", attempt: 1 };

describe("stageEventId", () => {
  it("gives the same id for the same inputs", () => {
    expect(stageEventId({ ...base })).toBe(stageEventId({ ...base }));
  });

  it("changes with the attempt, the account, the session, the step and the type", () => {
    const ids = new Set([
      stageEventId(base),
      stageEventId({ ...base, attempt: 2 }),
      stageEventId({ ...base, accountId: "other" }),
      stageEventId({ ...base, sessionId: "s2" }),
      stageEventId({ ...base, stepId: "scene-2" }),
      stageEventId({ ...base, type: "stage.completed" }),
      stageEventId({ ...base, discriminator: "0.5" }),
    ]);
    expect(ids.size).toBe(7);
  });

  it("cannot be forged by moving a separator between parts", () => {
    const a = stageEventId({ ...base, sessionId: "a.b", stepId: "c" });
    const b = stageEventId({ ...base, sessionId: "a", stepId: "b.c" });
    expect(a).not.toBe(b);
  });

  it("starts with the readable event type", () => {
    expect(stageEventId(base)).toMatch(/^started-/);
    expect(stageEventId({ ...base, type: "stage.failed" })).toMatch(/^failed-/);
  });

  it("always matches the contract's event id pattern", () => {
    fc.assert(
      fc.property(inputArb, fc.option(fc.string(), { nil: undefined }), (input, discriminator) => {
        const id = stageEventId({ ...input, discriminator });
        expect(id).toMatch(EVENT_ID_PATTERN);
        expect(id).not.toContain(":");
      }),
    );
  });

  it("gives different ids to different inputs", () => {
    fc.assert(
      fc.property(inputArb, inputArb, (a, b) => {
        const same = JSON.stringify(a) === JSON.stringify(b);
        expect(stageEventId(a) === stageEventId(b)).toBe(same);
      }),
    );
  });
});
