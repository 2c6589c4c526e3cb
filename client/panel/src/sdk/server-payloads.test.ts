import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  ActionId,
  AlertLevel,
  Balance,
  DenyReason,
  IsoTime,
  QuoteAnswer,
  Forecast,
  SessionBudget,
  SessionSnapshot,
  StageProgress,
} from "@creditmeter/shared";
import {
  AlertPayload,
  BalancePayload,
  DeniedPayload,
  ProgressPayload,
  QuotePayload,
  SessionUpdatePayload,
  WatchAckPayload,
} from "./server-payloads.js";
import type { Guard } from "./guards.js";

// The SDK's hand-written guards against the contract's zod schemas: never stricter (no valid frame
// is dropped), and every structural fault zod catches — a missing field, a wrong type, a negative
// or fractional credit, an unknown level or stage — the guard catches too. The guards do not
// check id patterns or timestamp formats (guards.ts): those mutations are not listed here.

const Credits = z.number().int().nonnegative();
// (v1.1) budget and forecast: null when the session has none; absent from a server before v1.1,
// which the SDK reads as null.
const v11 = {
  budget: SessionBudget.nullable().optional(),
  forecast: Forecast.nullable().optional(),
};
const contract = {
  session: SessionSnapshot.extend({
    ...v11,
    last: z.object({ eventId: z.string(), action: ActionId, amount: Credits, at: z.string() }).nullable(),
  }),
  balance: Balance,
  alert: z.object({ accountId: z.string(), level: AlertLevel, threshold: Credits, available: Credits, at: z.string() }),
  progress: StageProgress,
  denied: z.object({
    accountId: z.string(),
    sessionId: z.string(),
    stepId: z.string(),
    action: ActionId,
    required: Credits,
    available: Credits,
    reason: DenyReason,
    at: IsoTime,
  }),
  watchAck: z.union([
    z.object({ ok: z.literal(true), session: SessionSnapshot.extend(v11) }),
    z.object({ ok: z.literal(false), error: z.object({ code: z.string(), message: z.string() }) }),
  ]),
};
const at = "2026-01-01T00:00:00.000Z";
const byStage = { research: 10, storyboard: 0, keyframes: 4, animation: 0, voiceover: 0 };
const snap = {
  accountId: "a1",
  sessionId: "s1",
  used: 14,
  reserved: 2,
  byStage,
  seq: 3,
  budget: { credits: 20, remaining: 4, reachedAt: at },
};
const cases: { name: string; guard: Guard<unknown>; schema: z.ZodType; valid: Record<string, unknown> }[] = [
  {
    name: "session:update",
    guard: SessionUpdatePayload,
    schema: contract.session,
    valid: { ...snap, last: { eventId: "e-1", action: "image", amount: 4, at } },
  },
  {
    name: "balance:update",
    guard: BalancePayload,
    schema: contract.balance,
    valid: {
      accountId: "a1",
      plan: "free",
      available: 80,
      used: 20,
      held: 0,
      overdraft: 0,
      usagePercent: 20,
      seq: 9,
      cycle: { cycleId: "c1", start: at, end: at },
      buckets: [{ id: "c1", kind: "subscription", granted: 100, remaining: 80, expiresAt: at }],
      alert: { level: "low", threshold: 20, dismissed: false },
    },
  },
  {
    name: "balance:alert",
    guard: AlertPayload,
    schema: contract.alert,
    valid: { accountId: "a1", level: "critical", threshold: 5, available: 4, at },
  },
  {
    name: "stage:progress",
    guard: ProgressPayload,
    schema: contract.progress,
    valid: {
      accountId: "a1",
      sessionId: "s1",
      stepId: "st1",
      action: "animation",
      stage: "animation",
      progress: 0.5,
      at,
    },
  },
  {
    name: "stage:denied",
    guard: DeniedPayload,
    schema: contract.denied,
    valid: {
      accountId: "a1",
      sessionId: "s1",
      stepId: "st1",
      action: "animation",
      required: 90,
      available: 3,
      reason: "insufficient_credits",
      at,
    },
  },
  { name: "session:watch ack", guard: WatchAckPayload, schema: contract.watchAck, valid: { ok: true, session: snap } },
  {
    name: "session:update with a budget and a forecast",
    guard: SessionUpdatePayload,
    schema: contract.session,
    valid: {
      ...snap,
      last: null,
      budget: { credits: 100, remaining: 84, reachedAt: null },
      forecast: { planned: 160, remaining: 144, shortfall: 40, burnPerMinute: 3, runsOutInSeconds: 2080 },
    },
  },
  {
    name: "session:budget ack",
    guard: WatchAckPayload,
    schema: contract.watchAck,
    valid: { ok: true, session: { ...snap, budget: null, forecast: null } },
  },
  {
    // The lines are passed on to the caller, not read: their own fields are the server's word.
    name: "quote answer",
    guard: QuotePayload,
    schema: QuoteAnswer.extend({ items: z.array(z.unknown()) }),
    valid: {
      total: 160,
      byStage,
      items: [],
      plan: "free",
      available: 100,
      shortfall: 60,
      priceBookVersion: "2026-11-01",
    },
  },
];

/** Every field, at every depth, removed or replaced by each bad value the guard must refuse. */
function* mutations(value: Record<string, unknown>, path = ""): Generator<[string, unknown]> {
  for (const [key, field] of Object.entries(value)) {
    const where = `${path}${key}`;
    const bad: unknown[] = [undefined, null, [], typeof field === "number" ? "7" : 7];
    if (typeof field === "number") bad.push(-1, 1.5, Number.NaN);
    if (typeof field === "string" && ["level", "stage", "reason"].includes(key)) bad.push("nope");
    if (field === null) bad.splice(1, 1);
    for (const b of bad) yield [`${where}=${String(b)}`, { ...value, [key]: b }];
    if (field && typeof field === "object" && !Array.isArray(field)) {
      for (const [inner, mutated] of mutations(field as Record<string, unknown>, `${where}.`))
        yield [inner, { ...value, [key]: mutated }];
    }
  }
}

describe("the SDK's payload guards", () => {
  for (const { name, guard, schema, valid } of cases) {
    it(`${name}: accept what the contract accepts and refuse its structural faults`, () => {
      expect(schema.safeParse(valid).success).toBe(true);
      expect(guard(valid)).toBe(true);
      let refused = 0;
      for (const [label, mutated] of mutations(valid)) {
        const zodOk = schema.safeParse(mutated).success;
        // zod is the contract: anything it accepts the guard accepts; anything it refuses here, the guard refuses.
        expect({ label, guard: guard(mutated) }).toEqual({ label, guard: zodOk });
        if (!zodOk) refused += 1;
      }
      expect(refused).toBeGreaterThan(5);
    });
  }

  it("refuses non-objects and a failed ack's missing error", () => {
    for (const value of [null, undefined, 3, "x", []]) expect(SessionUpdatePayload(value)).toBe(false);
    expect(WatchAckPayload({ ok: false })).toBe(false);
    expect(WatchAckPayload({ ok: false, error: { code: "forbidden", message: "no" } })).toBe(true);
  });

  it("accepts a quote the contract accepts, with its lines", () => {
    const quote = {
      total: 61,
      byStage: { ...byStage, animation: 60, research: 1 },
      items: [
        { action: "script", model: null, scenes: null, seconds: null, count: 1, credits: 1 },
        { action: "animation", model: "veo-3.1-fast", scenes: null, seconds: 6, count: 1, credits: 60 },
      ],
      plan: "free",
      available: null,
      shortfall: null,
      priceBookVersion: "2026-11-01",
    };
    expect(QuoteAnswer.safeParse(quote).success).toBe(true);
    expect(QuotePayload(quote)).toBe(true);
    expect(QuotePayload({ ...quote, items: [{ action: "script", count: 1, credits: -1 }] })).toBe(false);
  });
});
