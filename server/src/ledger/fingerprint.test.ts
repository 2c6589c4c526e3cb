import { describe, expect, it } from "vitest";
import { ACTIONS } from "@creditmeter/shared";
import {
  actionOfCode,
  compactDifference,
  compactFingerprint,
  eventField,
  fingerprintArgument,
  stepField,
} from "./fingerprint.js";
import { packedEventId } from "./audit-ids.js";
import { fingerprintFromRecord, recordDifference, resultFromRecord, webhooksQueued } from "./event-record.js";

const event = {
  type: "stage.completed",
  sessionId: "0b9f0d5e-6f53-4a4c-9d3e-7a1c1f0e2b11",
  stepId: "step-1",
  action: "animation",
  model: "veo-3.1, fast",
  seconds: 4.2,
};

describe("compact fingerprints and records (lua/lib/idem.lua)", () => {
  it("keeps short fields raw and the ids as 8-character hashes; the argument leads with the event's and the step's fields", () => {
    const fp = compactFingerprint(event);
    expect(fp).toMatch(/^c[\w-]{16},i,,4\.2,veo-3\.1, fast$/); // animation is "i"
    expect(compactFingerprint({ ...event, scenes: 1 })).toBe(fp); // scenes 1 is the default
    const arg = fingerprintArgument({ ...event, eventId: "0b9f0d5e-6f53-4a4c-9d3e-7a1c1f0e2b12" });
    expect(arg.slice(0, 28)).toMatch(/^e[\w-]{27}$/);
    expect(arg.slice(28, 42)).toMatch(/^s[\w-]{13}$/);
    expect(arg.slice(42, 65)).toBe(packedEventId("0b9f0d5e-6f53-4a4c-9d3e-7a1c1f0e2b12")); // a UUID's audit form
    expect(arg.slice(65)).toBe(fp);
    expect(arg.slice(29, 37)).toBe(fp.slice(9, 17)); // the same hash of sessionId/stepId
    expect(eventField("x")).toHaveLength(28);
  });

  it("writes the texts records already hold (pinned: a change would turn every redelivery into a conflict)", () => {
    const arg = fingerprintArgument({ ...event, eventId: "0b9f0d5e-6f53-4a4c-9d3e-7a1c1f0e2b12" });
    // The eventId's packed audit form (audit-ids.ts) sits between the step's field and the fingerprint.
    expect(arg).toBe(
      "eagF4_XP8M63BT9LPeO4gmmoW2MUsRcrd918DG1fuH.C58NXm9TSkydPnocHw4rEgcgTlmK68zRcrd918D,i,,4.2,veo-3.1, fast",
    );
    const started = { type: "stage.started", sessionId: "s-1", stepId: "a/b", action: "image", scenes: 3 };
    expect(compactFingerprint(started)).toBe("srgbGdB4hAWuYLSBM,f,3,,");
  });

  it("builds the argument from the same parts as eventField, stepField and compactFingerprint (the step hashed once)", () => {
    const variants = [
      event,
      { ...event, model: undefined },
      { type: "stage.started", sessionId: "s-1", stepId: "a/b", action: "image", scenes: 1 },
      { type: "stage.failed", sessionId: "s/1", stepId: "b", action: "image", scenes: 3 },
    ];
    for (const [i, e] of variants.entries()) {
      const withId = { ...e, eventId: `evt-${i}` };
      const parts = eventField(withId.eventId) + stepField(e.sessionId, e.stepId) + compactFingerprint(withId);
      expect(fingerprintArgument(withId)).toBe(parts);
    }
  });

  it("gives every action a code of its own, never a name's", () => {
    const codes = ACTIONS.map((a) => compactFingerprint({ ...event, action: a }).split(",")[1]);
    expect(new Set(codes).size).toBe(ACTIONS.length);
    for (const [i, c] of codes.entries()) {
      expect(c).toHaveLength(1);
      expect(actionOfCode(c)).toBe(ACTIONS[i]);
    }
    expect(ACTIONS.every((a) => a.length > 1)).toBe(true);
  });

  it("names the first differing field, with its value when the record keeps it", () => {
    const fp = compactFingerprint(event);
    expect(compactDifference(fp, event)).toBeNull();
    expect(compactDifference(fp, { ...event, type: "stage.failed" })).toEqual({
      field: "type",
      was: "stage.completed",
    });
    expect(compactDifference(fp, { ...event, sessionId: "other" })).toEqual({ field: "sessionId" });
    expect(compactDifference(fp, { ...event, stepId: "step-2" })).toEqual({ field: "stepId" });
    expect(compactDifference(fp, { ...event, action: "music" })).toEqual({ field: "action", was: "animation" });
    expect(compactDifference(fp, { ...event, model: "kling" })).toEqual({ field: "model", was: "veo-3.1, fast" });
    expect(compactDifference(fp, { ...event, seconds: 5 })).toEqual({ field: "seconds", was: 4.2 });
    expect(compactDifference(fp, { ...event, scenes: 2 })).toEqual({ field: "scenes", was: null });
  });

  it("reads a compact record's result, fingerprint and queued mark, and a JSON record of the layout before", () => {
    const fp = compactFingerprint(event);
    const denied = `i0,988,12,1733300000000;800;;;,${fp}`;
    expect(resultFromRecord(denied)).toEqual({
      status: "denied",
      charged: 0,
      held: 0,
      available: 988,
      sessionUsed: 12,
      decision: "denied",
      denyReason: "insufficient_credits",
    });
    expect(resultFromRecord(`g30,970,0,,${fp}`)).toMatchObject({
      status: "applied",
      held: 30,
      charged: 0,
      decision: "granted",
    });
    expect(resultFromRecord(`a17,953,17,,${fp}`)).toEqual({
      status: "applied",
      charged: 17,
      held: 0,
      available: 953,
      sessionUsed: 17,
    });
    expect(resultFromRecord(`x0,1,2,,${fp}`)).toMatchObject({ status: "ignored" });
    const stored = fingerprintFromRecord(denied);
    expect(stored && recordDifference(stored, { ...event, seconds: 9 })).toEqual({ field: "seconds", was: 4.2 });
    expect(webhooksQueued(denied)).toBe(false);
    expect(webhooksQueued(`i0,988,12,1733300000000;800;;;;q,${fp}`)).toBe(true);
    const old = JSON.stringify({
      s: "applied",
      c: 3,
      h: 0,
      f: ["stage.completed", "s", "t", "image", null, 1, null],
      wq: 1,
    });
    expect(resultFromRecord(old)).toMatchObject({ status: "applied", charged: 3 });
    const was = fingerprintFromRecord(old);
    expect(
      was && recordDifference(was, { type: "stage.completed", sessionId: "s2", stepId: "t", action: "image" }),
    ).toEqual({ field: "sessionId", was: "s" });
    expect(webhooksQueued(old)).toBe(true);
    expect(resultFromRecord("garbage")).toBeNull();
  });
});
