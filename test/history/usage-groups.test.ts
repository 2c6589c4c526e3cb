// /usage answers the same, byte for byte, from Redis alone and from the archive (issue 17): many
// groups with tied credits, keys whose locale order differs from code-unit order ("S1" / "s1",
// "s_1" / "s-1"), model names that JSON must escape, sessions across midnight and window edges.
import { describe, expect, it } from "vitest";
import { DEFAULT_PRICE_BOOK, parsePriceBook, type StageEvent, type Usage, type UsageQuery } from "@creditmeter/shared";
import { postgresAvailable, usePostgres } from "../support/use-postgres.js";
import { trimAccount } from "../../server/src/history/trim.js";
import { archiveAll, archivedLedger, historyDatabase, type TestClock } from "./harness.js";

const DAY = 86_400_000;
const HOUR = 3_600_000;
const SESSIONS = 480;
const PREFIXES = ["s", "S", "s_", "s.", "s-", "Z", "a", "B"];
const MODELS = ["veo-3.1-fast", 'Veo "3", fast\\', "véo", "Zeta", "zeta", "a,b", "ﬁlm"];
const GROUPINGS: UsageQuery["groupBy"][] = ["action", "stage", "model", "session", "day"];

const book = parsePriceBook({
  ...DEFAULT_PRICE_BOOK,
  actions: {
    ...DEFAULT_PRICE_BOOK.actions,
    animation: { stage: "animation", unit: "second", models: Object.fromEntries(MODELS.map((m) => [m, 10])) },
  },
});

/** One session's steps: each started then completed, 1–3 of them, from a short list (ties). */
function sessionEvents(i: number): StageEvent[] {
  const sessionId = `${PREFIXES[i % PREFIXES.length] ?? "s"}${Math.floor(i / PREFIXES.length)}`;
  type Step = Pick<StageEvent, "action" | "model" | "seconds">;
  const middle: Step =
    i % 3 === 2
      ? { action: "animation", model: MODELS[i % MODELS.length] ?? "Zeta", seconds: 1 }
      : { action: "storyboard" };
  const all: Step[] = [{ action: "script" }, middle, { action: "voiceover", seconds: 1 + (i % 4) }];
  const steps = all.slice(0, 1 + (i % 3));
  return steps.flatMap((step, k) =>
    (["stage.started", "stage.completed"] as const).map((type) => ({
      v: 1 as const,
      eventId: `u-${i}-${k}-${type}`,
      type,
      accountId: "groups",
      sessionId,
      stepId: `step-${k}`,
      occurredAt: new Date().toISOString(),
      ...step,
    })),
  );
}

async function answers(read: (q: UsageQuery) => Promise<Usage>, now: number): Promise<Usage[]> {
  const windows: [number, number][] = [
    [now - 41 * DAY, now],
    [now - 400 * DAY, now],
    [now - 23 * DAY + 5 * HOUR, now - 9 * DAY - HOUR],
    [now - 20 * DAY + 7 * HOUR, now - 20 * DAY + 9 * HOUR],
    [now - 6 * DAY, now],
  ];
  const out: Usage[] = [];
  for (const [from, to] of windows) {
    for (const groupBy of GROUPINGS) {
      out.push(await read({ from: new Date(from).toISOString(), to: new Date(to).toISOString(), groupBy }));
    }
  }
  return out;
}

describe.skipIf(!postgresAvailable)("usage groups across the Redis/PostgreSQL boundary", () => {
  const postgres = usePostgres();

  it("answers every window and grouping identically (values and order) before and after trimming", async () => {
    const { pool } = await historyDatabase(postgres());
    const clock: TestClock = { now: Date.now() - 40 * DAY };
    const { ledger, redis, namespace } = await archivedLedger({ virtualClock: () => clock.now, priceBook: book }, pool);
    await ledger.putAccount("groups", { plan: "pro" });
    await ledger.startCycle("groups", {
      cycleId: "c1",
      credits: 1_000_000,
      start: new Date(clock.now - HOUR).toISOString(),
      end: new Date(Date.now() + 30 * DAY).toISOString(),
    });
    // 40 days of sessions, 2 h apart, their steps 50 min apart: some run across midnight.
    for (let i = 0; i < SESSIONS; i++) {
      for (const e of sessionEvents(i)) {
        const [outcome] = await ledger.applyEvents([e]);
        if (outcome instanceof Error) throw outcome;
        if (e.type === "stage.completed") clock.now += 50 * 60_000;
      }
      clock.now = Date.now() - 40 * DAY + ((i + 1) * 40 * DAY) / SESSIONS - HOUR;
    }
    const now = Date.now();
    clock.now = now;
    const read = (q: UsageQuery): Promise<Usage> => ledger.usage("groups", q);
    const before = await answers(read, now);

    // The data exercises the order: the session answer has ties whose locale order (the order
    // /usage has always used) is not their code-unit order, and a model key JSON must escape.
    const sessions = before[3]?.groups ?? [];
    expect(sessions.length).toBeGreaterThan(400);
    const ties = sessions.slice(1).filter((g, i) => g.credits === sessions[i]?.credits);
    expect(ties.length).toBeGreaterThan(300);
    expect(
      sessions.some((g, i) => i > 0 && g.credits === sessions[i - 1]?.credits && g.key < (sessions[i - 1]?.key ?? "")),
    ).toBe(true);
    expect(before[2]?.groups.map((g) => g.key)).toContain('Veo "3", fast\\');
    // …and that order is credits (most first), then key by localeCompare, for every answer.
    for (const u of before) {
      expect(u.groups).toEqual([...u.groups].sort((a, b) => b.credits - a.credits || a.key.localeCompare(b.key)));
    }

    const log = ledger.keys("groups").log;
    await archiveAll(pool, redis, log, "groups");
    const removed = await trimAccount(pool, redis, namespace, "groups", { ledger, hotMs: 7 * DAY }, now);
    expect(removed).toBeGreaterThan(1000);
    const after = await answers(read, now);
    expect(after).toEqual(before);
    // Byte for byte as served (key order inside each group too).
    expect(JSON.stringify(after)).toBe(JSON.stringify(before));
    await pool.end();
    await redis.close();
  });
});
