import { afterEach, beforeEach, describe, expect, inject, it } from "vitest";
import { Redis } from "ioredis";
import type { EventResult } from "@creditmeter/shared";
import { ReporterHarness } from "./test-harness.test-support.js";

// BullMQ users hold an ioredis or a node-redis client: the reporter takes either (or a URL), gets
// the server's decision through it, and leaves a caller's client open when it closes.

let h: ReporterHarness;
beforeEach(() => {
  h = new ReporterHarness(inject("redisUrl"));
});
afterEach(async () => {
  await h.cleanup();
});

const granted: EventResult = { status: "applied", charged: 0, held: 40, available: 60, sessionUsed: 0 };

describe("StageReporter connections", () => {
  it("reports through a caller's ioredis client and leaves it open", async () => {
    await h.server(async () => granted);
    const redis = new Redis(inject("redisUrl"), { maxRetriesPerRequest: null, lazyConnect: false });
    try {
      const reporter = h.reporter({ connection: redis });
      const decision = await reporter.started("img-1", { action: "image", scenes: 2 });
      expect(decision).toMatchObject({ granted: true, held: 40, available: 60 });
      await reporter.close();
      expect(await redis.ping()).toBe("PONG");
    } finally {
      redis.disconnect();
    }
  });

  it("reports through a caller's node-redis client and leaves it open", async () => {
    await h.server(async () => granted);
    const client = await h.client(false);
    const reporter = h.reporter({ connection: client });
    const decision = await reporter.started("img-1", { action: "image", scenes: 2 });
    expect(decision.granted).toBe(true);
    await reporter.close();
    expect(await client.ping()).toBe("PONG");
  });
});
