import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stageEvent } from "../support/ledger.js";
import { snapshotKeys, startPipeline, type Pipeline } from "../support/pipeline.js";

const accountId = "acct-bad";
const valid = () => stageEvent({ accountId, type: "stage.started", action: "script" }) as unknown as Record<string, unknown>;
const iso = (deltaMs: number) => new Date(Date.now() + deltaMs).toISOString();

// [description, job data, the field the reason must name]
const BAD: [string, unknown, string][] = [
  ["a string instead of an object", "stage.started", "(root)"],
  ["a number", 42, "(root)"],
  ["null", null, "(root)"],
  ["an array", [valid()], "(root)"],
  ["missing v", { ...valid(), v: undefined }, "v"],
  ["v 2", { ...valid(), v: 2 }, "v"],
  ["v as a string", { ...valid(), v: "1" }, "v"],
  ["missing eventId", { ...valid(), eventId: undefined }, "eventId"],
  ["an all-digit eventId", { ...valid(), eventId: "12345" }, "eventId"],
  ["an eventId with a colon", { ...valid(), eventId: "a:b" }, "eventId"],
  ["an eventId of 129 characters", { ...valid(), eventId: "e".repeat(129) }, "eventId"],
  ["an unknown type", { ...valid(), type: "stage.done" }, "type"],
  ["an accountId with a space", { ...valid(), accountId: "acct bad" }, "accountId"],
  ["an accountId of 65 characters", { ...valid(), accountId: "a".repeat(65) }, "accountId"],
  ["a sessionId with a slash", { ...valid(), sessionId: "s/1" }, "sessionId"],
  ["a stepId starting with a dot", { ...valid(), stepId: "../x" }, "stepId"],
  ["an unknown action", { ...valid(), action: "teleport" }, "action"],
  ["occurredAt not a date", { ...valid(), occurredAt: "yesterday" }, "occurredAt"],
  ["occurredAt past the retention", { ...valid(), occurredAt: iso(-31 * 86_400_000) }, "occurredAt"],
  ["occurredAt 10 minutes ahead", { ...valid(), occurredAt: iso(10 * 60_000) }, "occurredAt"],
  ["a model on a flat action", { ...valid(), model: "sora-2" }, "model"],
  ["an unknown model", { ...valid(), action: "animation", model: "dall-e", seconds: 4 }, "model"],
  ["animation without a model", { ...valid(), action: "animation", seconds: 4 }, "model"],
  ["scenes 0", { ...valid(), action: "image", scenes: 0 }, "scenes"],
  ["scenes 1001", { ...valid(), action: "image", scenes: 1001 }, "scenes"],
  ["fractional scenes", { ...valid(), action: "image", scenes: 1.5 }, "scenes"],
  ["scenes on a flat action", { ...valid(), scenes: 2 }, "scenes"],
  ["seconds 0", { ...valid(), action: "voiceover", seconds: 0 }, "seconds"],
  ["seconds 3601", { ...valid(), action: "voiceover", seconds: 3601 }, "seconds"],
  ["seconds as a string", { ...valid(), action: "voiceover", seconds: "10" }, "seconds"],
  ["seconds on a per-scene action", { ...valid(), action: "image", seconds: 3 }, "seconds"],
  ["completed voiceover without seconds", { ...valid(), type: "stage.completed", action: "voiceover" }, "seconds"],
  ["started talking_head without an estimate", { ...valid(), action: "talking_head" }, "seconds"],
  ["progress on started", { ...valid(), progress: 0.5 }, "progress"],
  ["progress 1.5", { ...valid(), type: "stage.progress", progress: 1.5 }, "progress"],
  ["progress missing on stage.progress", { ...valid(), type: "stage.progress" }, "progress"],
  ["reason on completed", { ...valid(), type: "stage.completed", reason: "x" }, "reason"],
  ["a reason of 501 characters", { ...valid(), type: "stage.failed", reason: "r".repeat(501) }, "reason"],
  ["an unknown field", { ...valid(), credits: 1000 }, "credits"],
  ["a huge unknown string", { ...valid(), blob: "x".repeat(512 * 1024) }, "blob"],
  ["a nested object for accountId", { ...valid(), accountId: { $ne: null } }, "accountId"],
];

describe("bad stage events", () => {
  let p: Pipeline;
  beforeAll(async () => {
    p = await startPipeline();
    await p.ledger.putAccount(accountId, { plan: "free" });
    await p.ledger.addPack(accountId, { packId: "p", credits: 100 });
  });
  afterAll(() => p.close());

  it(`rejects ${BAD.length} distinct bad events with a reason naming the field, ledger byte-for-byte unchanged`, async () => {
    expect(BAD.length).toBeGreaterThanOrEqual(30);
    const before = await snapshotKeys(p.redis, p.namespace);
    for (const [index, [what, data, field]] of BAD.entries()) {
      const job = await p.queue.add("stage.started", data, { jobId: `bad-${index}` });
      const err = await job.waitUntilFinished(p.events, 10_000).then(
        () => new Error(`${what}: was accepted`),
        (e: unknown) => e,
      );
      expect(String((err as Error).message), what).toMatch(/^invalid_event: /);
      expect(String((err as Error).message), what).toContain(field);
      const state = await p.queue.getJobState(job.id ?? "");
      expect(state, what).toBe("failed");
      const failed = await p.queue.getJob(job.id ?? "");
      expect(failed?.attemptsMade ?? 0, `${what} must not be retried`).toBeLessThanOrEqual(1);
    }
    expect(await snapshotKeys(p.redis, p.namespace)).toEqual(before);
    // The same consumer applies a valid event: the rejections above were about the input.
    const ok = await p.queue.add("stage.started", valid());
    expect(await ok.waitUntilFinished(p.events, 10_000)).toMatchObject({ status: "applied", held: 1 });
  });

  it("rejects an event for an account that does not exist with unknown_account", async () => {
    const before = await snapshotKeys(p.redis, p.namespace);
    const job = await p.queue.add("stage.started", stageEvent({ accountId: "nobody", type: "stage.started", action: "script" }));
    await expect(job.waitUntilFinished(p.events, 10_000)).rejects.toThrow(/^unknown_account: accountId/);
    expect(await snapshotKeys(p.redis, p.namespace)).toEqual(before);
  });
});
