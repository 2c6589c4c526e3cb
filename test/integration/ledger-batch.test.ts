/**
 * The consumer applies the events it has in flight as one batch (apply-events-4a.lua). Property:
 * any sequence of events, cut into batches anywhere, ends exactly where applying them one at a
 * time ends, and every event gets the same answer — including duplicates inside one batch,
 * unknown accounts and denials next to events of other accounts.
 */
import { afterAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import type { RedisClientType } from "redis";
import { CreditmeterError, type StageEvent } from "@creditmeter/shared";
import type { LedgerOutcome, RedisLedger } from "@creditmeter/server";
import { EventBatcher } from "../../server/src/metering/event-batcher.js";
import { asAccountOfLayoutBefore, cycle, stageEvent, testLedger } from "../support/ledger.js";

const ACCOUNTS = ["b-1", "b-2", "b-3"];
const STEP_ACTIONS = ["talking_head", "script", "image", "animation"] as const;

interface Step {
  account: number;
  session: number;
  step: number;
  kind: "started" | "progress" | "completed" | "failed";
  seconds: number;
  /** Re-send the event at this earlier index instead (a redelivery). */
  repeat: number | null;
}

const stepArb: fc.Arbitrary<Step> = fc.record({
  // Index 3 is an account that does not exist.
  account: fc.integer({ min: 0, max: 3 }),
  session: fc.integer({ min: 0, max: 1 }),
  step: fc.integer({ min: 0, max: 4 }),
  kind: fc.constantFrom("started" as const, "progress" as const, "completed" as const, "failed" as const),
  seconds: fc.integer({ min: 1, max: 12 }),
  repeat: fc.option(fc.nat(), { freq: 5 }),
});

function toEvents(steps: Step[], tag: string): StageEvent[] {
  const out: StageEvent[] = [];
  steps.forEach((s, i) => {
    const earlier = s.repeat === null || i === 0 ? undefined : out[s.repeat % i];
    if (earlier) return out.push(earlier);
    const accountId = ACCOUNTS[s.account] ?? "b-missing";
    // Each step has its action: per second, flat, per scene, per second by model. The batch
    // script reuses one event table for all its events, so an event's units, rate, model or stage
    // leaking into the next one's audit entry shows as a difference from one at a time.
    const action = STEP_ACTIONS[s.step % STEP_ACTIONS.length] ?? "talking_head";
    const base = { eventId: `${tag}-${i}`, accountId, sessionId: `s-${s.session}`, stepId: `st-${s.step}`, action };
    if (s.kind === "progress") return out.push(stageEvent({ ...base, type: "stage.progress", progress: 0.5 }));
    if (s.kind === "failed") return out.push(stageEvent({ ...base, type: "stage.failed" }));
    const type = `stage.${s.kind}` as const;
    if (action === "script") return out.push(stageEvent({ ...base, type }));
    if (action === "image") return out.push(stageEvent({ ...base, type, scenes: s.seconds }));
    const model = action === "animation" ? { model: s.seconds % 2 ? "veo-3.1" : "sora-2" } : {};
    return out.push(stageEvent({ ...base, type, seconds: s.seconds, ...model }));
  });
  return out;
}

/** What an outcome says about its event, without the parts that differ by design (seq, time). */
function answer(o: LedgerOutcome | Error): unknown {
  if (o instanceof CreditmeterError) return { error: o.code };
  if (o instanceof Error) return { failed: o.message };
  return {
    result: o.result,
    alert: o.alert ? { level: o.alert.level, threshold: o.alert.threshold, available: o.alert.available } : null,
    denied: o.denied ? { required: o.denied.required, available: o.denied.available } : null,
    charge: o.charge?.amount ?? null,
    progress: o.progress?.progress ?? null,
  };
}

async function state(ledger: RedisLedger): Promise<unknown> {
  return Promise.all(
    ACCOUNTS.map(async (id) => {
      const { seq: _seq, ...balance } = await ledger.balance(id);
      const sessions = await Promise.all(
        ["s-0", "s-1"].map(async (sid) => {
          const { seq: _s, ...snapshot } = await ledger.session(id, sid);
          return snapshot;
        }),
      );
      const page = await ledger.ledgerPage(id, { limit: 200 });
      // Every field of an entry but its id and time (stream ids differ between the two ledgers).
      return { balance, sessions, entries: page.entries.map(({ id: _id, at: _at, ...e }) => e) };
    }),
  );
}

async function seed(ledger: RedisLedger, run: number, at: ReturnType<typeof cycle>): Promise<void> {
  for (const id of ACCOUNTS) {
    await ledger.putAccount(id, { plan: "free" });
    // Few credits, so holds are denied and charges run into overdraft part of the time.
    await ledger.startCycle(id, { ...at, cycleId: `c-${run}`, credits: 150 + 40 * ACCOUNTS.indexOf(id) });
  }
}

describe("ledger batches (property)", () => {
  const made: RedisClientType[] = [];
  const fresh = async (): Promise<RedisLedger> => {
    const { ledger, redis } = await testLedger();
    made.push(redis);
    return ledger;
  };
  let run = 0;
  afterAll(async () => {
    await Promise.all(made.map((r) => r.close()));
  });

  it("any cut into batches gives every event the answer, and the ledger the state, of one at a time", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(stepArb, { minLength: 1, maxLength: 40 }),
        fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 10 }),
        async (steps, cuts) => {
          run += 1;
          const [single, batched] = [await fresh(), await fresh()];
          const at = cycle("c", 0);
          await seed(single, run, at);
          await seed(batched, run, at);
          const events = toEvents(steps, `r${run}`);

          const one: unknown[] = [];
          for (const e of events) one.push(answer(await single.applyEvent(e).catch((err: unknown) => err as Error)));

          const many: unknown[] = [];
          for (let i = 0, c = 0; i < events.length; c++) {
            const size = cuts[c % cuts.length] ?? 1;
            many.push(...(await batched.applyEvents(events.slice(i, i + size))).map(answer));
            i += size;
          }

          expect(many).toEqual(one);
          expect(await state(batched)).toEqual(await state(single));
        },
      ),
      { numRuns: 25 },
    );
  });

  it("pushes each account's balance and touched sessions once per batch, at their final state", async () => {
    const ledger = await fresh();
    await seed(ledger, 0, cycle("c", 0));
    const events = [0, 1, 2].map((i) =>
      stageEvent({ accountId: "b-1", sessionId: "s-0", stepId: `p-${i}`, type: "stage.completed", action: "script" }),
    );
    events.push(
      stageEvent({ accountId: "b-2", sessionId: "s-1", stepId: "p-x", type: "stage.completed", action: "script" }),
    );
    const outcomes = await ledger.applyEvents(events);
    const ok = outcomes.filter((o): o is LedgerOutcome => !(o instanceof Error));
    expect(ok).toHaveLength(4);
    expect(ok.map((o) => o.balance !== null)).toEqual([false, false, true, true]);
    expect(ok[2]?.sessions.map((s) => [s.sessionId, s.used])).toEqual([["s-0", 3]]);
    expect(ok[2]?.balance?.used).toBe(3);
    expect(ok.map((o) => o.result?.sessionUsed)).toEqual([1, 2, 3, 1]);
  });

  it("a batch whose script fails writes nothing, and the batcher then fails only the poisoned event", async () => {
    const { ledger, redis, namespace } = await testLedger();
    made.push(redis);
    await seed(ledger, 0, cycle("c", 0));
    // A key of the wrong type where b-2's session should be: its event makes the script fail.
    await redis.set(`${namespace}:{b-2}:sess:s-0`, "not a hash");
    const good = stageEvent({
      accountId: "b-1",
      sessionId: "s-0",
      stepId: "g-1",
      type: "stage.completed",
      action: "script",
    });
    const poisoned = stageEvent({
      accountId: "b-2",
      sessionId: "s-0",
      stepId: "p-1",
      type: "stage.completed",
      action: "script",
    });
    const after = stageEvent({
      accountId: "b-3",
      sessionId: "s-0",
      stepId: "g-2",
      type: "stage.completed",
      action: "script",
    });

    const failed = await ledger.applyEvents([good, poisoned, after]);
    expect(failed.every((o) => o instanceof Error && !(o instanceof CreditmeterError))).toBe(true);
    expect((await ledger.balance("b-1")).used).toBe(0);
    expect((await ledger.ledgerPage("b-1", { limit: 10 })).entries.map((e) => e.kind)).toEqual(["grant"]);

    const batcher = new EventBatcher(ledger);
    const results = await Promise.all(
      [good, poisoned, after].map((e) =>
        batcher.applyEvent(e).then(
          (o) => o.result?.status,
          (err: Error) => err.message,
        ),
      ),
    );
    expect(results[0]).toBe("applied");
    expect(results[1]).toMatch(/WRONGTYPE/);
    expect(results[2]).toBe("applied");
    expect((await ledger.balance("b-1")).used).toBe(1);
    expect((await ledger.balance("b-3")).used).toBe(1);
    expect((await ledger.applyEvent(good)).result?.status).toBe("duplicate");
  });

  it("still reads the step states the first release kept in one key per step (migration)", async () => {
    const { ledger, redis, namespace } = await testLedger();
    made.push(redis);
    await seed(ledger, 0, cycle("c", 0));
    await asAccountOfLayoutBefore(redis, namespace, "b-1");
    await redis.hSet(`${namespace}:{b-1}:step:s-0/old-done`, "state", "completed");
    const again = await ledger.applyEvent(
      stageEvent({ accountId: "b-1", sessionId: "s-0", stepId: "old-done", type: "stage.completed", action: "script" }),
    );
    expect(again.result?.status).toBe("ignored");
    expect((await ledger.balance("b-1")).used).toBe(0);
  });

  it("answers a repeat from an idempotency record written by cjson (earlier releases)", async () => {
    const { ledger, redis, namespace } = await testLedger();
    made.push(redis);
    await seed(ledger, 0, cycle("c", 0));
    const start = stageEvent({
      eventId: "old-rec",
      accountId: "b-1",
      sessionId: "s-0",
      stepId: "o-1",
      type: "stage.started",
      action: "script",
    });
    // Key order as cjson wrote it; this release writes the same fields by hand.
    await asAccountOfLayoutBefore(redis, namespace, "b-1");
    await redis.set(`${namespace}:{b-1}:evt:old-rec`, '{"d":"granted","h":1,"s":"applied","c":0}');
    const again = await ledger.applyEvent(start);
    expect(again.result).toMatchObject({ status: "duplicate", decision: "granted", held: 0 });
    expect((await ledger.balance("b-1")).held).toBe(0);
  });

  it("runs on a Redis whose Lua prints whole numbers up to 2^53 exactly with %d (the ledger's fmt)", async () => {
    const { redis } = await testLedger();
    made.push(redis);
    expect(await redis.eval('return string.format("%d", 2^53) .. " " .. string.format("%d", -2^53)')).toBe(
      "9007199254740992 -9007199254740992",
    );
  });

  it("re-pushes an account's balance when a repeated event is not its last event in the batch", async () => {
    const ledger = await fresh();
    await seed(ledger, 0, cycle("c", 0));
    const done = stageEvent({
      accountId: "b-1",
      sessionId: "s-0",
      stepId: "r-1",
      type: "stage.completed",
      action: "script",
    });
    await ledger.applyEvent(done);
    // A retry after a crash between the ledger and the push, then an event that changes nothing.
    const quiet = stageEvent({
      accountId: "b-1",
      sessionId: "s-1",
      stepId: "r-2",
      type: "stage.progress",
      action: "script",
      progress: 0.5,
    });
    const [again, last] = await ledger.applyEvents([done, quiet]);
    expect(again instanceof Error ? null : again?.result?.status).toBe("duplicate");
    if (!last || last instanceof Error) throw new Error("no outcome for the last event");
    expect(last.changed).toBe(false);
    expect(last.repush).toBe(true);
    expect(last.balance?.used).toBe(1);
    expect(last.sessions.map((s) => [s.sessionId, s.used])).toEqual([["s-0", 1]]);
  });

  it("does not place a second hold over an open one when the step's state is missing", async () => {
    const { ledger, redis, namespace } = await testLedger();
    made.push(redis);
    await seed(ledger, 0, cycle("c", 0));
    const start = (eventId: string) =>
      stageEvent({
        eventId,
        accountId: "b-1",
        sessionId: "s-0",
        stepId: "h-1",
        type: "stage.started",
        action: "script",
      });
    expect((await ledger.applyEvent(start("h-a"))).result?.held).toBe(1);
    await redis.del(`${namespace}:{b-1}:steps:s-0`);
    expect((await ledger.applyEvent(start("h-b"))).result?.status).toBe("ignored");
    expect((await ledger.balance("b-1")).held).toBe(1);
    expect(await redis.hLen(`${namespace}:{b-1}:holds`)).toBe(1);
  });
});
