import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { sortUsageGroups } from "./usage-order.js";

// The order /usage always answered in: one stable comparator sort.
const reference = <T extends { key: string; credits: number }>(groups: T[]): T[] =>
  [...groups].sort((a, b) => b.credits - a.credits || a.key.localeCompare(b.key, "en-US"));

describe("sortUsageGroups", () => {
  it("orders exactly as the comparator sort (credits most first, then localeCompare), ties included", () => {
    const key = fc.oneof(
      fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,6}$/),
      fc.string({ maxLength: 6 }),
      fc.constantFrom("a", "A", "b", "B", "s_1", "s-1", "s.1", "é", "e\u0301", "none", "Zeta", "zeta"),
    );
    const groups = fc.uniqueArray(fc.record({ key, credits: fc.integer({ min: 0, max: 6 }), count: fc.nat(20) }), {
      selector: (g) => g.key,
      maxLength: 60,
    });
    fc.assert(
      fc.property(groups, (gs) => {
        expect(sortUsageGroups(gs)).toEqual(reference(gs));
      }),
      { numRuns: 500 },
    );
  });
});
