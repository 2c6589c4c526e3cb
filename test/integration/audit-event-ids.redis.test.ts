/**
 * UUID eventIds in the packed audit trail (ledger/audit-ids.ts): the ledger's script stores them
 * in 23 characters, and the trail's reader answers them whole, as the named layout kept them.
 */
import { describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { expandEntries } from "../../server/src/ledger/audit-entries.js";
import { packedEventId } from "../../server/src/ledger/audit-ids.js";
import { cycle, stageEvent, testLedger } from "../support/ledger.js";

describe("UUID eventIds in packed audit entries", () => {
  it("are stored packed and read back whole, next to eventIds of another shape", async () => {
    const { ledger, redis, namespace } = await testLedger();
    await ledger.putAccount("u", { plan: "free" });
    await ledger.startCycle("u", cycle("c1", 1000));
    const base = { accountId: "u", sessionId: "s", action: "script" } as const;
    const events = [
      stageEvent({ ...base, eventId: randomUUID(), stepId: "a", type: "stage.started" }),
      stageEvent({ ...base, eventId: randomUUID(), stepId: "a", type: "stage.completed" }),
      stageEvent({ ...base, eventId: "plain-1", stepId: "b", type: "stage.started" }),
      stageEvent({ ...base, eventId: randomUUID().toUpperCase(), stepId: "b", type: "stage.completed" }),
      stageEvent({ ...base, eventId: randomUUID(), stepId: "c", type: "stage.started" }),
      stageEvent({ ...base, eventId: randomUUID(), stepId: "c", type: "stage.failed" }),
    ];
    const out = await ledger.applyEvents(events);
    expect(out.map((o) => (o instanceof Error ? o.message : o.result?.status))).toEqual(Array(6).fill("applied"));
    const entries = await redis.xRange(`${namespace}:{u}:log`, "-", "+");
    const raw = entries.map((e) => e.message.m ?? "").join("|");
    const uuids = [events[0], events[1], events[4], events[5]].map((e) => e?.eventId ?? "");
    for (const u of uuids) {
      expect(raw).not.toContain(u);
      expect(raw).toContain(packedEventId(u));
    }
    const moves = expandEntries(entries).filter((m) => m.fields.eid !== undefined);
    expect(moves.map((m) => [m.fields.k, m.fields.eid])).toEqual([
      ["hold", events[0]?.eventId],
      ["release", events[1]?.eventId],
      ["charge", events[1]?.eventId],
      ["hold", events[2]?.eventId],
      ["release", events[3]?.eventId],
      ["charge", events[3]?.eventId],
      ["hold", events[4]?.eventId],
      ["release", events[5]?.eventId],
    ]);
    await redis.close();
  });
});
