import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { DEFAULT_PRICE_BOOK as book, parsePriceBook } from "./price-book.js";
import { quoteCharge, quoteHold } from "./pricing.js";
import { ACTIONS, PLANS } from "./ids.js";

const plan = fc.constantFrom(...PLANS);
const models = Object.keys(book.actions.animation.models ?? {});

describe("the price book", () => {
  it("validates at load and rejects an entry with both credits and models", () => {
    const bad = structuredClone(book) as unknown as { actions: { script: Record<string, unknown> } };
    bad.actions.script.models = { x: 1 };
    expect(() => parsePriceBook(bad)).toThrow(/exactly one of credits or models/);
  });

  it("rejects a rate above a million credits per unit, naming the field", () => {
    const bad = structuredClone(book) as unknown as { actions: Record<string, Record<string, unknown>> };
    const voiceover = bad.actions.voiceover;
    if (!voiceover) throw new Error("the default book has no voiceover");
    voiceover.credits = 1_000_001;
    expect(() => parsePriceBook(bad)).toThrow(/actions\.voiceover\.credits|voiceover[\s\S]*credits/);
  });

  it("prices the published table", () => {
    expect(quoteCharge(book, { action: "script" }, "free")).toEqual({ ok: true, credits: 1 });
    expect(quoteCharge(book, { action: "web_research" }, "free")).toEqual({ ok: true, credits: 0 });
    expect(quoteCharge(book, { action: "image", scenes: 5 }, "free")).toEqual({ ok: true, credits: 15 });
    expect(quoteCharge(book, { action: "image", scenes: 5 }, "plus")).toEqual({ ok: true, credits: 0 });
    expect(quoteCharge(book, { action: "animation", model: "veo-3.1", seconds: 4.2 }, "pro")).toEqual({ ok: true, credits: 100 });
    expect(quoteHold(book, { action: "voiceover" }, "free")).toEqual({ ok: true, credits: 30 });
    expect(quoteHold(book, { action: "voiceover", seconds: 42.1 }, "free")).toEqual({ ok: true, credits: 43 });
  });

  it("rejects an unknown model naming the field", () => {
    expect(quoteCharge(book, { action: "animation", model: "dall-e", seconds: 1 }, "free")).toEqual({
      ok: false,
      field: "model",
      message: 'unknown model "dall-e"',
    });
    expect(quoteCharge(book, { action: "animation", model: "toString", seconds: 1 }, "free").ok).toBe(false);
  });
});

describe("quotes (properties)", () => {
  it("are non-negative integers for every action, plan and quantity", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ACTIONS),
        plan,
        fc.constantFrom(...models),
        fc.integer({ min: 1, max: 1000 }),
        fc.double({ min: 0.001, max: 3600, noNaN: true }),
        (action, p, model, scenes, seconds) => {
          for (const quote of [quoteCharge, quoteHold]) {
            const q = quote(book, { action, model, scenes, seconds }, p);
            expect(q.ok).toBe(true);
            if (q.ok) {
              expect(Number.isInteger(q.credits)).toBe(true);
              expect(q.credits).toBeGreaterThanOrEqual(0);
            }
          }
        },
      ),
    );
  });

  it("charge ceil(seconds) × rate per second, and holds at least the minimum reservation", () => {
    fc.assert(
      fc.property(fc.double({ min: 0.001, max: 3600, noNaN: true }), plan, fc.constantFrom(...models), (seconds, p, model) => {
        const rate = book.actions.animation.models?.[model] ?? -1;
        expect(quoteCharge(book, { action: "animation", model, seconds }, p)).toEqual({ ok: true, credits: Math.ceil(seconds) * rate });
        const hold = quoteHold(book, { action: "voiceover", seconds }, p);
        expect(hold).toEqual({ ok: true, credits: Math.max(30, Math.ceil(seconds)) });
      }),
    );
  });

  it("price images at 0 on plus and pro and 3 per scene on free", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), plan, (scenes, p) => {
        const q = quoteCharge(book, { action: "image", scenes }, p);
        expect(q).toEqual({ ok: true, credits: p === "free" ? 3 * scenes : 0 });
      }),
    );
  });

  it("reject any model the book does not list", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 20 }).filter((m) => !models.includes(m)), (model) => {
        expect(quoteHold(book, { action: "animation", model, seconds: 3 }, "free").ok).toBe(false);
      }),
    );
  });
});
