import { afterEach, beforeEach, describe, expect, inject, it } from "vitest";
import { UnrecoverableError, type Job } from "bullmq";
import type { EventResult, StageEvent } from "@creditmeter/shared";
import { DecisionTimeoutError, EventRejectedError, ReporterClosedError, UnexpectedResultError } from "./errors.js";
import { ReporterHarness } from "./test-harness.test-support.js";

// The seam under test: the reporter's use of the queue to learn the server's answer. A real
// BullMQ worker stands in for the metering server and answers with contract-shaped results.

let h: ReporterHarness;
beforeEach(() => {
  h = new ReporterHarness(inject("redisUrl"));
});
afterEach(async () => {
  await h.cleanup();
});

const result = (r: Partial<EventResult>): EventResult => ({
  status: "applied",
  charged: 0,
  held: 0,
  available: 0,
  sessionUsed: 0,
  ...r,
});

/** A stand-in ledger: decides each new eventId with `decide`, answers repeats as `duplicate`. */
function fakeMeter(decide: (e: StageEvent) => EventResult) {
  const decided = new Map<string, EventResult>();
  const seen: Job[] = [];
  const processor = async (job: Job): Promise<EventResult> => {
    seen.push(job);
    const e = job.data as StageEvent;
    const before = decided.get(e.eventId);
    if (before) {
      const decision = before.status === "applied" ? "granted" : "denied";
      return result({ status: "duplicate", available: before.available, decision });
    }
    const r = decide(e);
    decided.set(e.eventId, r);
    return r;
  };
  return { processor, seen };
}

describe("StageReporter.started", () => {
  it("resolves granted with the hold the server placed", async () => {
    const meter = fakeMeter(() => result({ held: 160, available: 140 }));
    await h.server(meter.processor);
    const decision = await h.reporter().started("anim-1", { action: "animation", model: "veo-3.1", seconds: 8 });
    expect(decision).toEqual({
      granted: true,
      held: 160,
      available: 140,
      status: "applied",
      eventId: meter.seen[0]?.id,
    });
    expect(meter.seen[0]?.name).toBe("stage.started");
    expect(meter.seen[0]?.data).toMatchObject({ v: 1, action: "animation", model: "veo-3.1", seconds: 8 });
  });

  it("resolves denied when the server denies", async () => {
    await h.server(fakeMeter(() => result({ status: "denied", available: 12 })).processor);
    const decision = await h.reporter().started("vo-1", { action: "voiceover", seconds: 40 });
    expect(decision).toMatchObject({ granted: false, held: 0, available: 12, status: "denied" });
  });

  it("answers a repeated call from the first job without queueing another", async () => {
    const meter = fakeMeter(() => result({ held: 1, available: 9 }));
    await h.server(meter.processor);
    const reporter = h.reporter();
    const first = await reporter.started("script-1", { action: "script" });
    const again = await reporter.started("script-1", { action: "script" });
    expect(again).toEqual(first);
    expect(meter.seen).toHaveLength(1);
  });

  it.each([
    ["granted", "applied", true],
    ["denied", "denied", false],
  ] as const)("learns the original decision (%s) from a duplicate", async (_name, status, granted) => {
    const meter = fakeMeter(() => result({ status, held: granted ? 3 : 0, available: 5 }));
    await h.server(meter.processor, true); // completed jobs are removed: a repeat is a new job
    const reporter = h.reporter();
    const first = await reporter.started("img-1", { action: "image", scenes: 1 });
    const again = await reporter.started("img-1", { action: "image", scenes: 1 });
    expect(meter.seen).toHaveLength(2);
    expect(again).toMatchObject({ granted, status: "duplicate", held: 0, eventId: first.eventId });
  });

  it("matches each answer to its own call when many wait at once", async () => {
    await h.server(fakeMeter((e) => result({ held: 3 * (e.scenes ?? 1) })).processor);
    const reporter = h.reporter();
    const scenes = Array.from({ length: 20 }, (_, i) => i + 1);
    const decisions = await Promise.all(
      scenes.map((n) => reporter.started(`img-${n}`, { action: "image", scenes: n })),
    );
    expect(decisions.map((d) => d.held)).toEqual(scenes.map((n) => 3 * n));
  });

  it("sends a new event for a new attempt after a denial", async () => {
    let available = 0;
    const meter = fakeMeter(() =>
      available >= 1 ? result({ held: 1, available: available - 1 }) : result({ status: "denied" }),
    );
    await h.server(meter.processor);
    const reporter = h.reporter();
    const denied = await reporter.started("brief-1", { action: "creative_brief" });
    available = 10; // a pack was bought
    const retried = await reporter.started("brief-1", { action: "creative_brief", attempt: 2 });
    expect(denied.granted).toBe(false);
    expect(retried).toMatchObject({ granted: true, status: "applied", held: 1 });
    expect(retried.eventId).not.toBe(denied.eventId);
  });

  it.each([
    ["invalid_event: seconds: must be at most 3600", "invalid_event"],
    ["unknown_account: acme", "unknown_account"],
  ])("rejects with the server's reason when the job fails (%s)", async (reason, code) => {
    await h.server(async () => {
      throw new UnrecoverableError(reason);
    });
    const failure = h.reporter().started("a-1", { action: "script" });
    await expect(failure).rejects.toBeInstanceOf(EventRejectedError);
    await expect(failure).rejects.toMatchObject({ reason, code, message: reason });
  });

  it("times out with a clear error, and the event stays queued to be applied later", async () => {
    const reporter = h.reporter({ decisionTimeoutMs: 300 });
    const late = reporter.started("music-1", { action: "music" });
    await expect(late).rejects.toBeInstanceOf(DecisionTimeoutError);
    await expect(late).rejects.toThrow(/within 300 ms: the event stays queued and will still be applied/);
    const queue = await h.queue();
    expect(await queue.getWaitingCount()).toBe(1);
    // Once a server runs, repeating the call learns the outcome of that same event.
    const meter = fakeMeter(() => result({ held: 30, available: 70 }));
    await h.server(meter.processor);
    const decision = await reporter.started("music-1", { action: "music" });
    expect(decision).toMatchObject({ granted: true, held: 30 });
    expect(meter.seen).toHaveLength(1);
  });

  it("rejects a result that is not contract-shaped", async () => {
    await h.server(async () => ({ ok: true }));
    await expect(h.reporter().started("x-1", { action: "script" })).rejects.toBeInstanceOf(UnexpectedResultError);
  });

  it("rejects a call still waiting when closed, leaving its event queued", async () => {
    const reporter = h.reporter();
    const pending = reporter.started("x-1", { action: "script" });
    const queue = await h.queue();
    await h.until(async () => (await queue.getWaitingCount()) === 1, 5_000, "the job to be queued");
    await reporter.close();
    await expect(pending).rejects.toBeInstanceOf(ReporterClosedError);
    expect(await queue.getWaitingCount()).toBe(1);
  });
});

describe("StageReporter with { wait: true }", () => {
  it("resolves completed, progress and failed with the server's answer", async () => {
    await h.server(fakeMeter(() => result({ held: 160, available: 140 })).processor);
    const reporter = h.reporter();
    const done = await reporter.completed("sb-1", { action: "storyboard" }, { wait: true });
    expect(done).toMatchObject({ status: "applied", held: 160, available: 140 });
    expect(done.eventId).toMatch(/^completed-/);
    expect(await reporter.progress("sb-2", "storyboard", 0.5, { wait: true })).toMatchObject({ status: "applied" });
    expect(await reporter.failed("sb-3", "storyboard", undefined, { wait: true })).toMatchObject({ status: "applied" });
  });
});
