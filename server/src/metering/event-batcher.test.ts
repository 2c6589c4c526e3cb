import { describe, expect, it } from "vitest";
import { CreditmeterError, type StageEvent } from "@creditmeter/shared";
import type { LedgerOutcome } from "../ledger/outcome.js";
import { EventBatcher, type BatchLedger } from "./event-batcher.js";

const event = (i: number): StageEvent => ({
  v: 1,
  eventId: `e-${i}`,
  type: "stage.completed",
  accountId: "a",
  sessionId: "s",
  stepId: `st-${i}`,
  action: "script",
  occurredAt: new Date(0).toISOString(),
});

const outcomeOf = (e: StageEvent): LedgerOutcome =>
  ({ accountId: e.accountId, result: { status: "applied", charged: 1, held: 0, available: 0, sessionUsed: 0 }}) as unknown as LedgerOutcome;

/** A ledger that records the batches it was given and answers when told to. */
function recordingLedger(answer: (events: StageEvent[]) => (LedgerOutcome | CreditmeterError)[] | Error) {
  const calls: { events: StageEvent[]; release: () => void }[] = [];
  const ledger: BatchLedger = {
    applyEvents: (events) =>
      new Promise((resolve, reject) => {
        calls.push({
          events,
          release: () => {
            const a = answer(events);
            if (a instanceof Error) reject(a);
            else resolve(a);
          },
        });
      }),
  };
  return { ledger, calls };
}

const until = async (check: () => boolean): Promise<void> => {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setImmediate(r));
  expect(check()).toBe(true);
};

describe("EventBatcher", () => {
  it("sends what arrives in one turn as one batch, and what arrives while busy as the next", async () => {
    const { ledger, calls } = recordingLedger((events) => events.map(outcomeOf));
    const b = new EventBatcher(ledger, { maxBatch: 64, maxInFlight: 1 });
    const first = [1, 2, 3].map((i) => b.applyEvent(event(i)));
    await until(() => calls.length === 1);
    const second = [4, 5].map((i) => b.applyEvent(event(i)));
    await new Promise((r) => setImmediate(r));
    expect(calls).toHaveLength(1);
    calls[0]?.release();
    expect((await Promise.all(first)).map((o) => o.accountId)).toEqual(["a", "a", "a"]);
    await until(() => calls.length === 2);
    expect(calls.map((c) => c.events.map((e) => e.eventId))).toEqual([["e-1", "e-2", "e-3"], ["e-4", "e-5"]]);
    calls[1]?.release();
    await Promise.all(second);
  });

  it("caps a batch at maxBatch", async () => {
    const { ledger, calls } = recordingLedger((events) => events.map(outcomeOf));
    const b = new EventBatcher(ledger, { maxBatch: 2, maxInFlight: 2 });
    const all = [1, 2, 3, 4, 5].map((i) => b.applyEvent(event(i)));
    await until(() => calls.length === 2);
    expect(calls.map((c) => c.events.length)).toEqual([2, 2]);
    calls.forEach((c) => c.release());
    await until(() => calls.length === 3);
    calls[2]?.release();
    expect(await Promise.all(all)).toHaveLength(5);
  });

  it("fails only the event the ledger refused", async () => {
    const { ledger, calls } = recordingLedger((events) =>
      events.map((e) => (e.eventId === "e-2" ? new CreditmeterError("unknown_account", "unknown_account: accountId: no account", "accountId") : outcomeOf(e))),
    );
    const b = new EventBatcher(ledger, { maxBatch: 64, maxInFlight: 1 });
    const results = [1, 2, 3].map((i) => b.applyEvent(event(i)).then(() => "ok", (err: Error) => err.message));
    await until(() => calls.length === 1);
    calls[0]?.release();
    expect(await Promise.all(results)).toEqual(["ok", "unknown_account: accountId: no account", "ok"]);
  });

  it("retries a failed call one event at a time, in order, so a poisoned event fails alone", async () => {
    const { ledger, calls } = recordingLedger((events) => (events.some((e) => e.eventId === "e-5") ? new Error("WRONGTYPE") : events.map(outcomeOf)));
    const b = new EventBatcher(ledger, { maxBatch: 64, maxInFlight: 1 });
    const results = [4, 5, 6].map((i) => b.applyEvent(event(i)).then(() => "ok", (err: Error) => err.message));
    for (let n = 1; n <= 4; n++) {
      await until(() => calls.length === n);
      calls[n - 1]?.release();
    }
    expect(await Promise.all(results)).toEqual(["ok", "WRONGTYPE", "ok"]);
    expect(calls.map((c) => c.events.map((e) => e.eventId))).toEqual([["e-4", "e-5", "e-6"], ["e-4"], ["e-5"], ["e-6"]]);
  });
});
