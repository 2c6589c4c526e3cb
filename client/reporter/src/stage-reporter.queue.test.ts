import { afterEach, beforeEach, describe, expect, inject, it } from "vitest";
import { ReporterHarness } from "./test-harness.test-support.js";

// What the reporter puts on the queue (CONTRACT §2): job name, job id and job data, and nothing
// at all when the call is invalid. No consumer runs here, so every job stays waiting.

let h: ReporterHarness;
beforeEach(() => {
  h = new ReporterHarness(inject("redisUrl"));
});
afterEach(async () => {
  await h.cleanup();
});

const at = new Date("2030-01-02T03:04:05.000Z");

describe("StageReporter: what lands on the queue", () => {
  it("adds a job named for the type, with the event id as job id and the contract's fields as data", async () => {
    const reporter = h.reporter({ now: () => at });
    const eventId = await reporter.completed("scene-1", { action: "animation", model: "veo-3.1", seconds: 7.5 });
    const job = await (await h.queue()).getJob(eventId);
    expect(job?.name).toBe("stage.completed");
    expect(job?.id).toBe(eventId);
    expect(job?.data).toStrictEqual({
      v: 1,
      eventId,
      type: "stage.completed",
      accountId: "acme",
      sessionId: "s1",
      stepId: "scene-1",
      action: "animation",
      model: "veo-3.1",
      seconds: 7.5,
      occurredAt: "2030-01-02T03:04:05.000Z",
    });
  });

  it("queues stage.progress and stage.failed with only their own fields", async () => {
    const reporter = h.reporter({ now: () => at });
    const queue = await h.queue();
    const progressId = await reporter.progress("vo-1", "voiceover", 0.25);
    const failedId = await reporter.failed("vo-1", "voiceover", "tts provider down");
    expect((await queue.getJob(progressId))?.data).toMatchObject({ type: "stage.progress", progress: 0.25 });
    expect((await queue.getJob(progressId))?.data).not.toHaveProperty("reason");
    expect((await queue.getJob(failedId))?.data).toMatchObject({ type: "stage.failed", reason: "tts provider down" });
    expect(await reporter.failed("img-1", "image")).toMatch(/^failed-/);
  });

  it("queues a repeated call once, under the same id", async () => {
    const reporter = h.reporter();
    const first = await reporter.completed("img-1", { action: "image", scenes: 4 });
    const again = await reporter.completed("img-1", { action: "image", scenes: 4 });
    expect(again).toBe(first);
    expect(await (await h.queue()).getWaitingCount()).toBe(1);
  });

  it("treats each progress value as its own event and a repeated value as the same one", async () => {
    const reporter = h.reporter();
    const half = await reporter.progress("anim-1", "animation", 0.5);
    expect(await reporter.progress("anim-1", "animation", 0.5)).toBe(half);
    expect(await reporter.progress("anim-1", "animation", 0.75)).not.toBe(half);
    expect(await (await h.queue()).getWaitingCount()).toBe(2);
  });

  it("gives two accounts' identical steps different job ids", async () => {
    const a = await h.reporter({ accountId: "acme" }).completed("step-1", { action: "script" });
    const b = await h.reporter({ accountId: "globex" }).completed("step-1", { action: "script" });
    expect(a).not.toBe(b);
    expect(await (await h.queue()).getWaitingCount()).toBe(2);
  });

  it("works on a node-redis client it is given, opening it if needed and leaving it open", async () => {
    const client = await h.client(false);
    const reporter = h.reporter({ connection: client });
    const eventId = await reporter.completed("s-1", { action: "storyboard" });
    expect((await (await h.queue()).getJob(eventId))?.name).toBe("stage.completed");
    await reporter.close();
    expect(client.isOpen).toBe(true);
    expect(await client.ping()).toBe("PONG");
  });
});

describe("StageReporter: invalid calls queue nothing", () => {
  const cases: Array<[string, (r: ReturnType<ReporterHarness["reporter"]>) => Promise<unknown>, RegExp]> = [
    [
      "animation without a model",
      (r) => r.completed("a", { action: "animation", seconds: 4 }),
      /^invalid_event: model:/,
    ],
    [
      "an unknown model",
      (r) => r.started("a", { action: "animation", model: "sora-9", seconds: 4 }),
      /^invalid_event: model:/,
    ],
    ["seconds on a flat action", (r) => r.completed("a", { action: "script", seconds: 4 }), /^invalid_event: seconds:/],
    [
      "completed voiceover without seconds",
      (r) => r.completed("a", { action: "voiceover" }),
      /^invalid_event: seconds:/,
    ],
    ["an unknown action", (r) => r.failed("a", "teleport" as "script"), /^invalid_event: action:/],
    ["progress above 1", (r) => r.progress("a", "image", 1.5), /^invalid_event: progress:/],
    ["a step id with ':'", (r) => r.completed("scene:1", { action: "script" }), /^invalid_event: stepId:/],
    ["a reason over 500 characters", (r) => r.failed("a", "script", "x".repeat(501)), /^invalid_event: reason:/],
    ["attempt 0", (r) => r.started("a", { action: "script", attempt: 0 }), /^invalid_event: attempt:/],
    ["too many scenes", (r) => r.started("a", { action: "image", scenes: 1001 }), /^invalid_event: scenes:/],
  ];

  it.each(cases)("rejects %s", async (_what, call, message) => {
    await expect(call(h.reporter())).rejects.toThrow(message);
    const counts = await (await h.queue()).getJobCounts();
    expect(Object.values(counts).every((n) => n === 0)).toBe(true);
  });

  it("refuses bad options when constructed, naming the option", () => {
    expect(() => h.reporter({ accountId: "no spaces" })).toThrow(/^invalid_input: accountId:/);
    expect(() => h.reporter({ queueName: "a:b" })).toThrow(/^invalid_input: queueName:/);
    expect(() => h.reporter({ decisionTimeoutMs: 0 })).toThrow(/^invalid_input: decisionTimeoutMs:/);
  });

  it("refuses calls once closed", async () => {
    const reporter = h.reporter();
    await reporter.close();
    await expect(reporter.completed("a", { action: "script" })).rejects.toThrow(/closed/);
  });
});
