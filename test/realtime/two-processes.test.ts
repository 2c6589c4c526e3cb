import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SessionUpdate } from "@creditmeter/shared";
import type { ConnectionState } from "@creditmeter/panel/sdk";
import { RedisLedger } from "../../server/src/ledger/redis-ledger.js";
import { loadConfig } from "../../server/src/config/config.js";
import { createCreditMeter } from "@creditmeter/panel/sdk";
import { waitFor } from "../support/redis-server.js";
import { spawnLoopbackServer, type LoopbackServer } from "../support/server-process.js";
import { completed, cycleOf, deployment, type Deployment } from "./harness.js";
import { roundRobinProxy, type RoundRobinProxy } from "./tcp-proxy.js";

// Two real server processes on one Redis: A consumes, B only serves panels. A panel on B sees
// A's charges; when B dies the panel reconnects (through a round-robin proxy) to A and ends exact.
describe("two server processes", () => {
  let d: Deployment;
  let ledger: RedisLedger;
  let proxy: RoundRobinProxy;
  const children: LoopbackServer[] = [];
  const acct = "acct-multi";

  beforeAll(async () => {
    d = await deployment();
    const a = await spawnLoopbackServer(d.env);
    const b = await spawnLoopbackServer({ ...d.env, CREDITMETER_CONSUMER: "false" });
    children.push(a, b);
    const config = loadConfig(d.env);
    ledger = RedisLedger.fromConfig(d.redis, config);
    await ledger.putAccount(acct, { plan: "free" });
    await ledger.startCycle(acct, cycleOf("c1", 1000));
    await a.ready();
    await b.ready();
    // B first: the panel's first connection lands on B, its reconnect on A.
    proxy = await roundRobinProxy([b.port, a.port]);
  }, 90_000);
  afterAll(async () => {
    await Promise.all(children.map((child) => child.kill("SIGKILL")));
    await proxy.close();
    await d.close();
  });

  it("a panel on B sees A's charges, survives B's death and ends on the exact total", async () => {
    const meter = createCreditMeter({
      url: `http://127.0.0.1:${proxy.port}`,
      token: () => d.token(acct),
      reconnectionDelayMs: 100,
      reconnectionDelayMaxMs: 400,
    });
    const seen: SessionUpdate[] = [];
    const states: ConnectionState[] = [];
    meter.onState((s) => states.push(s));
    meter.watchSession("video-1", (u) => seen.push(u));
    try {
      await waitFor(() => meter.state === "connected" && seen.length > 0, 5000, "panel connected to B");
      await d.enqueue(Array.from({ length: 20 }, () => completed(acct, "video-1", "script")));
      await waitFor(() => seen.at(-1)?.used === 20, 5000, "A's charges seen through B");

      const b = children[1];
      if (!b) throw new Error("no process B");
      await b.kill("SIGKILL");
      // Charged while the panel has no connection: the reconnect snapshot must carry them.
      await d.enqueue(Array.from({ length: 15 }, () => completed(acct, "video-1", "script")));
      await waitFor(() => states.includes("reconnecting"), 5000, "panel noticed B's death");
      await waitFor(() => meter.state === "connected", 8000, "panel reconnected to A");
      await d.enqueue(Array.from({ length: 5 }, () => completed(acct, "video-1", "script")));
      await waitFor(() => seen.at(-1)?.used === 40, 5000, "exact total on the panel");

      const truth = await ledger.session(acct, "video-1");
      expect(truth.used).toBe(40);
      expect(seen.at(-1)?.seq).toBe(truth.seq);
      for (let i = 1; i < seen.length; i++) expect(seen[i]?.seq).toBeGreaterThan(seen[i - 1]?.seq ?? Infinity);
      // Balance pushes are paced per account (CREDITMETER_BALANCE_PUSH_INTERVAL_MS): the last one
      // may land after the session's; it must land, exact.
      await waitFor(() => meter.balance?.used === 40, 5000, "exact balance on the panel");
      expect(meter.balance?.used).toBe(40);
    } finally {
      meter.close();
    }
  });
});
