import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Balance, SessionUpdate } from "@creditmeter/shared";
import { createCreditMeter } from "@creditmeter/panel/sdk";
import { waitFor } from "../support/redis-server.js";
import { completed, cycleOf, deployment, recorder, startNode, type Deployment } from "./harness.js";

// 500 charges through the real queue and consumer: the panel ends exact, in order, coalesced.
describe("a burst of 500 charges in one session", () => {
  let d: Deployment;
  let node: Awaited<ReturnType<typeof startNode>>;
  const acct = "acct-burst";

  beforeAll(async () => {
    d = await deployment({ CREDITMETER_PUSH_COALESCE_MS: "50" });
    node = await startNode(d);
    await node.ledger.putAccount(acct, { plan: "free" });
    await node.ledger.startCycle(acct, cycleOf("c1", 2000));
  });
  afterAll(async () => {
    await node.close();
    await d.close();
  });

  it("ends on the ledger's number with seq strictly increasing and fewer pushes than charges", async () => {
    const meter = createCreditMeter({ url: node.url, token: () => d.token(acct) });
    const raw = recorder(node.url, { token: await d.token(acct) });
    const seen: SessionUpdate[] = [];
    const balances: Balance[] = [];
    meter.watchSession("video-1", (u) => seen.push(u));
    meter.onBalance((b) => balances.push(b));
    try {
      await waitFor(() => seen.length > 0 && raw.socket.connected, 5000, "first snapshot");
      await raw.socket.timeout(5000).emitWithAck("session:watch", { sessionId: "video-1" });

      await d.enqueue(Array.from({ length: 500 }, () => completed(acct, "video-1", "script")));
      await waitFor(() => seen.at(-1)?.used === 500 && balances.at(-1)?.used === 500, 12_000, "500 credits on the panel");

      const ledger = await node.ledger.session(acct, "video-1");
      expect(seen.at(-1)?.used).toBe(ledger.used);
      expect(seen.at(-1)?.seq).toBe(ledger.seq);
      expect((await node.ledger.balance(acct)).available).toBe(meter.balance?.available);
      for (let i = 1; i < seen.length; i++) expect(seen[i]?.seq).toBeGreaterThan(seen[i - 1]?.seq ?? Infinity);

      // What the server sent (before any client-side dropping) is coalesced too.
      await waitFor(() => raw.packets.some((p) => p.event === "session:update" && (p.args[0] as SessionUpdate).used === 500), 5000, "raw final");
      const wire = raw.packets.filter((p) => p.event === "session:update").map((p) => p.args[0] as SessionUpdate);
      expect(wire.length).toBeLessThan(500);
      expect(wire.length).toBeGreaterThan(0);
      expect(raw.packets.filter((p) => p.event === "balance:update").length).toBeLessThan(500);
    } finally {
      meter.close();
      raw.socket.disconnect();
    }
  });
});
