// Property (CONTRACT §10): a quote is what the ledger charges. Random items on a random plan are
// quoted, then run through the real ledger (Redis, apply-events-4a: a started and a completed per
// item and per count) on a fresh account with credits to spare; the charges the ledger recorded
// (its audit trail, read back by stage, and the session's totals) equal the quote, total and per stage.
import { afterAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { randomUUID } from "node:crypto";
import {
  ACTIONS,
  DEFAULT_PRICE_BOOK as book,
  PLANS,
  STAGES,
  quoteItems,
  type QuoteItem,
  type StageEvent,
} from "@creditmeter/shared";
import { stageEvent, testLedger } from "../support/ledger.js";

const { ledger, redis } = await testLedger();
afterAll(async () => {
  await redis.close();
});

const seconds = fc.double({ min: 0.001, max: 900, noNaN: true, noDefaultInfinity: true });
const count = fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined });

/** A valid item of any action: the quantities its action takes, nothing else. */
const item: fc.Arbitrary<QuoteItem> = fc.constantFrom(...ACTIONS).chain((action): fc.Arbitrary<QuoteItem> => {
  const entry = book.actions[action];
  if (entry.models) {
    return fc.record(
      { action: fc.constant(action), model: fc.constantFrom(...Object.keys(entry.models)), seconds, count },
      { requiredKeys: ["action", "model", "seconds"] },
    );
  }
  if (entry.unit === "second")
    return fc.record({ action: fc.constant(action), seconds, count }, { requiredKeys: ["action", "seconds"] });
  if (entry.unit === "scene")
    return fc.record(
      { action: fc.constant(action), scenes: fc.integer({ min: 1, max: 40 }), count },
      { requiredKeys: ["action"] },
    );
  return fc.record({ action: fc.constant(action), count }, { requiredKeys: ["action"] });
});

/** The stage events a worker sends for the items: per item and per count, a started then a completed. */
function eventsOf(accountId: string, items: QuoteItem[]): StageEvent[] {
  return items.flatMap((it, i) =>
    Array.from({ length: it.count ?? 1 }, (_, c) => {
      const { count: _count, ...quantities } = it;
      const step = { accountId, sessionId: "video", stepId: `i${i}-c${c}`, ...quantities };
      return [stageEvent({ ...step, type: "stage.started" }), stageEvent({ ...step, type: "stage.completed" })];
    }).flat(),
  );
}

describe("quote = ledger", () => {
  it("random items cost on the ledger exactly what they were quoted, in total and per stage", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...PLANS),
        fc.array(item, { minLength: 1, maxLength: 6 }),
        async (plan, items) => {
          const quote = quoteItems(book, items, plan);
          const acct = `q-${randomUUID().slice(0, 12)}`;
          await ledger.putAccount(acct, { plan });
          await ledger.addPack(acct, { packId: "p1", credits: 10_000_000 });
          const outcomes = await ledger.applyEvents(eventsOf(acct, items));
          for (const o of outcomes) {
            if (o instanceof Error) throw o;
            expect(o.result?.status).toBe("applied");
          }
          const now = Date.now();
          const window = { from: new Date(now - 3_600_000).toISOString(), to: new Date(now + 3_600_000).toISOString() };
          const usage = await ledger.usage(acct, { ...window, groupBy: "stage" });
          const session = await ledger.session(acct, "video");
          const charged = Object.fromEntries(
            STAGES.map((s) => [s, usage.groups.find((g) => g.key === s)?.credits ?? 0]),
          );
          expect(usage.total).toBe(quote.total);
          expect(charged).toEqual(quote.byStage);
          expect(session.used).toBe(quote.total);
          expect(session.byStage).toEqual(quote.byStage);
          expect(session.reserved).toBe(0);
          expect((await ledger.balance(acct)).available).toBe(10_000_000 - quote.total);
        },
      ),
      { numRuns: Number(process.env.CREDITMETER_QUOTE_RUNS ?? 40) },
    );
  });
});
