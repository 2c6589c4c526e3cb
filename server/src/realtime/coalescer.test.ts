import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Coalescer } from "./coalescer.js";

describe("Coalescer", () => {
  let emitted: { key: string; seq: number; since: number | null }[];
  let c: Coalescer<{ seq: number }>;
  beforeEach(() => {
    vi.useFakeTimers();
    emitted = [];
    c = new Coalescer(50, (key, v, since) => emitted.push({ key, seq: v.seq, since }));
  });
  afterEach(() => vi.useRealTimers());

  it("emits an isolated change at once", () => {
    c.push("k", { seq: 1 }, null);
    expect(emitted).toEqual([{ key: "k", seq: 1, since: null }]);
    vi.advanceTimersByTime(60);
    expect(emitted).toHaveLength(1);
  });

  it("merges a burst into one trailing emit of the highest seq, whatever the arrival order", () => {
    c.push("k", { seq: 1 }, 1000);
    c.push("k", { seq: 3 }, 1003);
    c.push("k", { seq: 2 }, 1002);
    c.push("other", { seq: 7 }, null);
    expect(emitted.map((e) => e.seq)).toEqual([1, 7]);
    vi.advanceTimersByTime(50);
    expect(emitted.at(-1)).toEqual({ key: "k", seq: 3, since: 1002 });
    vi.advanceTimersByTime(200);
    expect(emitted).toHaveLength(3);
    c.push("k", { seq: 4 }, null);
    expect(emitted.at(-1)?.seq).toBe(4);
  });

  it("flush emits what is pending, so a shutdown drops no final value", () => {
    c.push("k", { seq: 1 }, null);
    c.push("k", { seq: 2 }, null);
    c.flush();
    expect(emitted.map((e) => e.seq)).toEqual([1, 2]);
  });

  it("with a zero window emits everything", () => {
    const all: number[] = [];
    const z = new Coalescer<{ seq: number }>(0, (_k, v) => all.push(v.seq));
    for (const seq of [1, 2, 3]) z.push("k", { seq }, null);
    expect(all).toEqual([1, 2, 3]);
  });
});
