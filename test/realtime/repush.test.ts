import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QueueEvents } from "bullmq";
import type { SessionUpdate } from "@creditmeter/shared";
import { bullmqConnection } from "@creditmeter/server";
import { waitFor } from "../support/redis-server.js";
import { completed, cycleOf, deployment, recorder, startNode, type Deployment } from "./harness.js";

// A crash between the ledger write and the push: the job is retried, the ledger answers
// "duplicate", and the retry pushes the current snapshot, so the panel converges.
describe("a push lost to a crash", () => {
  let d: Deployment;
  let node: Awaited<ReturnType<typeof startNode>>;
  const acct = "acct-repush";

  beforeAll(async () => {
    d = await deployment();
    node = await startNode(d);
    await node.ledger.putAccount(acct, { plan: "free" });
    await node.ledger.startCycle(acct, cycleOf("c1", 100));
  });
  afterAll(async () => {
    await node.close();
    await d.close();
  });

  it("is re-pushed by the redelivered job", async () => {
    const raw = recorder(node.url, { token: await d.token(acct) });
    const events = new QueueEvents(d.queueName, { connection: bullmqConnection(d.redis, () => undefined), prefix: "{creditmeter}" });
    try {
      await waitFor(() => raw.socket.connected, 5000, "the panel to connect");
      await raw.socket.timeout(5000).emitWithAck("session:watch", { sessionId: "video-1" });
      const event = completed(acct, "video-1", "image", { scenes: 2 });
      // The "crashed" attempt: written to the ledger, never pushed.
      const written = await node.ledger.applyEvent(event);
      expect(written.result).toMatchObject({ status: "applied", charged: 6 });

      await events.waitUntilReady();
      await d.enqueue([event]);
      const job = await d.queue.getJob(event.eventId);
      expect(await job?.waitUntilFinished(events, 10_000)).toMatchObject({ status: "duplicate", charged: 0, sessionUsed: 6, available: 94 });
      await waitFor(
        () => raw.packets.some((p) => p.event === "session:update" && (p.args[0] as SessionUpdate).used === 6),
        5000,
        "the re-pushed session snapshot",
      );
      const balances = raw.packets.filter((p) => p.event === "balance:update").map((p) => p.args[0] as { available: number });
      expect(balances.at(-1)?.available).toBe(94);
    } finally {
      raw.socket.disconnect();
      await events.close();
    }
  });
});
