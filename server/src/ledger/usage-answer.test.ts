// /usage totals are money: past 2^53 a double rounds silently (Redis amounts summed in JS, and
// PostgreSQL's exact numeric sums parsed from JSON alike), so such an answer must refuse, not round.
import { describe, expect, it } from "vitest";
import { usageAnswer, type UsageGroups } from "./reads.js";

const DAY = 86_400_000;

describe("usageAnswer", () => {
  it("answers exact integer sums up to 2^53 - 1", () => {
    const groups: UsageGroups = new Map([
      ["a", { credits: Number.MAX_SAFE_INTEGER - 1, count: 3 }],
      ["b", { credits: 1, count: 1 }],
    ]);
    const usage = usageAnswer(0, DAY, "action", groups);
    expect(usage.total).toBe(Number.MAX_SAFE_INTEGER);
    expect(usage.groups.map((g) => g.key)).toEqual(["a", "b"]);
  });

  it("refuses a group already rounded (a PostgreSQL sum of 2^53 + 1 parses to 2^53)", () => {
    const groups: UsageGroups = new Map([["a", { credits: Number(JSON.parse("9007199254740993")), count: 2 }]]);
    expect(() => usageAnswer(0, DAY, "action", groups)).toThrow(/past exact integers/);
  });

  it("refuses a total of exact groups that is past 2^53", () => {
    const groups: UsageGroups = new Map([
      ["a", { credits: 2 ** 52, count: 1 }],
      ["b", { credits: 2 ** 52 + 1, count: 1 }],
    ]);
    expect(() => usageAnswer(0, DAY, "action", groups)).toThrow(/past exact integers/);
  });
});
