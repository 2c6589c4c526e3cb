import { describe, expect, it } from "vitest";
import { parseBudgetInput } from "./budget-control.js";
import { ShortfallAnnouncer } from "./session-forecast.js";
import { resolveStrings } from "./strings.js";

const en = resolveStrings("en", undefined);
const de = resolveStrings("de", undefined);
const plain = (n: number): string => String(n);

describe("the shortfall announcement", () => {
  it("is set when the warning appears and when its words change, not when only its number moves", () => {
    const announcer = new ShortfallAnnouncer();
    const said: string[] = [];
    const take = (shortfall: number, text = en): void => {
      const before = announcer.message;
      announcer.take(shortfall, text, plain);
      if (announcer.message !== before) said.push(announcer.message);
    };
    take(0);
    take(40);
    take(35);
    take(20);
    take(20, de);
    take(0, de);
    take(12, de);
    expect(said).toEqual([
      "This video needs about 40 more credits than you have available.",
      "Dieses Video braucht etwa 20 Credits mehr, als verfügbar sind.",
      "",
      "Dieses Video braucht etwa 12 Credits mehr, als verfügbar sind.",
    ]);
  });
});

describe("the budget field", () => {
  it("takes whole numbers ≥ 0 and nothing else", () => {
    expect(["0", " 120 ", "1000000000000"].map(parseBudgetInput)).toEqual([0, 120, 1e12]);
    for (const bad of ["", "-1", "1.5", "1,000", "1e3", "abc", "12 credits", "99999999999999"])
      expect(parseBudgetInput(bad)).toBeNull();
  });
});
