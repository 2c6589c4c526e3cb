/**
 * Short idempotency records (lua/lib/idem.lua idem_record_text: an upper-case code, numbers in
 * base64url, a fingerprint without its trailing empty fields): for any event, the record read back
 * answers the first application's result and fingerprint, a repeat is a duplicate and a reused
 * eventId with another body a conflict; records of the form before (lower-case code, decimal
 * numbers, the whole fingerprint: production's, up to 45 days old) are still answered.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { randomUUID } from "node:crypto";
import { CreditmeterError, type StageEvent } from "@creditmeter/shared";
import { eventField, compactFingerprint } from "../../server/src/ledger/fingerprint.js";
import { fingerprintFromRecord, resultFromRecord } from "../../server/src/ledger/event-record.js";
import { stageEvent, testLedger } from "../support/ledger.js";

const arbEvent = fc.record({
  type: fc.constantFrom("stage.started", "stage.completed", "stage.failed", "stage.progress"),
  action: fc.constantFrom("script", "image", "voiceover", "animation"),
  scenes: fc.option(fc.integer({ min: 1, max: 1000 }), { nil: undefined }),
  seconds: fc.option(fc.constantFrom(1, 12, 12.5, 600), { nil: undefined }),
  model: fc.option(fc.constantFrom("veo-3.1", "veo-3.1-fast", "sora-2-pro"), { nil: undefined }),
});

type Drawn = typeof arbEvent extends fc.Arbitrary<infer T> ? T : never;

/** An event the ledger accepts from the drawn shape (the fields each action allows). */
function eventOf(d: Drawn, credits: number): StageEvent {
  const perScene = d.action === "image";
  const perSecond = d.action === "voiceover" || d.action === "animation";
  return stageEvent({
    accountId: `short-${credits}`,
    eventId: randomUUID(),
    type: d.type as StageEvent["type"],
    action: d.action,
    ...(perScene && d.scenes ? { scenes: d.scenes } : {}),
    ...(perSecond ? { seconds: d.seconds ?? 12 } : {}),
    ...(d.action === "animation" && d.type !== "stage.failed" && d.type !== "stage.progress"
      ? { model: d.model ?? "veo-3.1" }
      : {}),
    ...(d.type === "stage.progress" ? { progress: 0.5 } : {}),
  });
}

describe("short idempotency records", () => {
  it("answer the first result and fingerprint, repeats and conflicts, for any event", async () => {
    const { ledger, redis } = await testLedger();
    const credits = [0, 5, 100_000_000];
    for (const c of credits) {
      await ledger.putAccount(`short-${c}`, { plan: "free" });
      if (c > 0)
        await ledger.startCycle(`short-${c}`, {
          cycleId: "c1",
          credits: c,
          start: new Date(Date.now() - 3_600_000).toISOString(),
          end: new Date(Date.now() + 30 * 86_400_000).toISOString(),
        });
    }
    await fc.assert(
      fc.asyncProperty(arbEvent, fc.constantFrom(...credits), async (d, c) => {
        const event = eventOf(d, c);
        const first = await ledger.applyEvent(event);
        const raw = await ledger.readEventRecord(event.accountId, event.eventId);
        expect(raw).not.toBeNull();
        const r = first.result;
        expect(resultFromRecord(raw)).toEqual({
          status: r?.status,
          charged: r?.charged,
          held: r?.held,
          available: r?.available,
          sessionUsed: r?.sessionUsed,
          ...(r?.decision ? { decision: r.decision } : {}),
          ...(r?.denyReason ? { denyReason: r.denyReason } : {}),
        });
        expect(fingerprintFromRecord(raw)).toEqual({ compact: compactFingerprint(event) });
        expect((await ledger.applyEvent(event)).result?.status).toBe("duplicate");
        const err = await ledger.applyEvent({ ...event, stepId: `${event.stepId}-other` }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(CreditmeterError);
        expect((err as CreditmeterError).field).toBe("stepId");
      }),
      { numRuns: 40 },
    );
    await redis.close();
  });

  it("an event that raised nothing is kept short: an upper-case code, under 31 characters when it can", async () => {
    const { ledger, redis } = await testLedger();
    await ledger.putAccount("s", { plan: "free" });
    const e = stageEvent({ accountId: "s", type: "stage.progress", action: "script", progress: 0.5 });
    await ledger.applyEvent(e);
    const raw = (await ledger.readEventRecord("s", e.eventId)) ?? "";
    // Applied (A), the fingerprint's first 17, 0 charged, 0 available, 0 used (A: 0 in base64url),
    // then the action's code ("b", script) without the three empty fields after it.
    expect(raw).toMatch(/^Ap.{16}A,A,A,b$/);
    await redis.close();
  });

  it("records of the form before are still answered", async () => {
    const { ledger, redis, namespace } = await testLedger();
    await ledger.putAccount("v1", { plan: "free" });
    const e = stageEvent({ accountId: "v1", type: "stage.completed", action: "voiceover", seconds: 12 });
    await ledger.applyEvent(e);
    // The record as the form before wrote it: decimal numbers, empty raised, the whole fingerprint.
    let found = false;
    for await (const keys of redis.scanIterator({ MATCH: `${namespace}:{v1}:ids:*` })) {
      for (const k of keys) {
        const f = eventField(e.eventId).slice(0, 14);
        if ((await redis.hGet(k, f)) == null) continue;
        await redis.hSet(k, f, `a0,0,0,,${compactFingerprint(e)}`);
        found = true;
      }
    }
    expect(found).toBe(true);
    expect(resultFromRecord(await ledger.readEventRecord("v1", e.eventId))).toEqual({
      status: "applied",
      charged: 0,
      held: 0,
      available: 0,
      sessionUsed: 0,
    });
    expect((await ledger.applyEvent(e)).result?.status).toBe("duplicate");
    const err = await ledger.applyEvent({ ...e, seconds: 13 }).catch((x: unknown) => x);
    expect((err as CreditmeterError).field).toBe("seconds");
    expect((err as CreditmeterError).message).toMatch(/12/);
    await redis.close();
  });
});
