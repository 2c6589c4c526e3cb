import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Coalescer } from "./coalescer.js";

describe("Coalescer", () => {
  let emitted: { key: string; seq: number; since: number | null }[];
  let c: Coalescer<{ seq: number }>;
  beforeEach(() => {
    vi.useFakeTimers();
    emitted = [];
    c = new Coalescer(50, (key, v, since) => emitted.push({ key, seq: v.seq, since }), 3);
  });
  afterEach(() => {
    c.flush();
    vi.useRealTimers();
  });

  it("emits an isolated change at once", () => {
    c.push("k", { seq: 1 }, null);
    expect(emitted).toEqual([{ key: "k", seq: 1, since: null }]);
    vi.advanceTimersByTime(60);
    expect(emitted).toHaveLength(1);
  });

  it("emits up to the burst at once, so two close charges both show without waiting", () => {
    c.push("k", { seq: 1 }, null);
    c.push("k", { seq: 2 }, null);
    c.push("k", { seq: 3 }, null);
    expect(emitted.map((e) => e.seq)).toEqual([1, 2, 3]);
  });

  it("merges what exceeds the burst into one emit of the highest seq, whatever the arrival order", () => {
    for (const seq of [1, 2, 3]) c.push("k", { seq }, null);
    c.push("k", { seq: 4 }, 1004);
    c.push("k", { seq: 6 }, 1006);
    c.push("k", { seq: 5 }, 1005);
    c.push("other", { seq: 7 }, null);
    expect(emitted.map((e) => e.seq)).toEqual([1, 2, 3, 7]);
    vi.advanceTimersByTime(49);
    expect(emitted).toHaveLength(4);
    vi.advanceTimersByTime(1);
    expect(emitted.at(-1)).toEqual({ key: "k", seq: 6, since: 1004 });
    vi.advanceTimersByTime(200);
    expect(emitted).toHaveLength(5);
  });

  it("never emits more than the burst per window under a flood, and ends on the last value", () => {
    let seq = 0;
    for (let ms = 0; ms < 1000; ms++) {
      c.push("k", { seq: ++seq }, null);
      vi.advanceTimersByTime(1);
    }
    vi.advanceTimersByTime(100);
    expect(emitted.length).toBeLessThanOrEqual(3 * (1000 / 50) + 3);
    expect(emitted.length).toBeGreaterThan(3);
    expect(emitted.at(-1)?.seq).toBe(1000);
  });

  it("forgets quiet keys, and takes an isolated change at once again afterwards", () => {
    for (const seq of [1, 2, 3, 4]) c.push("k", { seq }, null);
    c.push("other", { seq: 9 }, null);
    expect(c.size).toBe(2);
    vi.advanceTimersByTime(2000);
    expect(emitted.map((e) => e.seq)).toEqual([1, 2, 3, 9, 4]);
    expect(c.size).toBe(0);
    c.push("k", { seq: 5 }, null);
    expect(emitted.at(-1)?.seq).toBe(5);
  });

  it("flush emits what is pending, so a shutdown drops no final value", () => {
    for (const seq of [1, 2, 3, 4, 5]) c.push("k", { seq }, null);
    c.flush();
    expect(emitted.map((e) => e.seq)).toEqual([1, 2, 3, 5]);
  });

  it("with a zero window emits everything", () => {
    const all: number[] = [];
    const z = new Coalescer<{ seq: number }>(0, (_k, v) => all.push(v.seq));
    for (const seq of [1, 2, 3, 4, 5]) z.push("k", { seq }, null);
    expect(all).toEqual([1, 2, 3, 4, 5]);
  });

  it("does not send a snapshot older than one already sent, but does re-send an equal one", () => {
    for (const seq of [5, 6, 7]) c.push("k", { seq }, null);
    c.push("k", { seq: 4 }, null);
    vi.advanceTimersByTime(100);
    c.push("k", { seq: 7 }, null);
    expect(emitted.map((e) => e.seq)).toEqual([5, 6, 7, 7]);
  });
});

// The account rooms' setting (socket-publisher): one push, then one per interval, the latest.
describe("Coalescer with a burst of 1 (balance pushes)", () => {
  let emitted: { seq: number; at: number }[];
  let c: Coalescer<{ seq: number }>;
  beforeEach(() => {
    vi.useFakeTimers();
    emitted = [];
    c = new Coalescer(250, (_key, v) => emitted.push({ seq: v.seq, at: Date.now() }), 1);
  });
  afterEach(() => {
    c.flush();
    vi.useRealTimers();
  });

  it("sends a lone change at once, and again at once after a quiet interval", () => {
    const t0 = Date.now();
    c.push("a", { seq: 1 }, null);
    expect(emitted).toEqual([{ seq: 1, at: t0 }]);
    vi.advanceTimersByTime(300);
    c.push("a", { seq: 2 }, null);
    expect(emitted).toEqual([
      { seq: 1, at: t0 },
      { seq: 2, at: t0 + 300 },
    ]);
  });

  it("under 1 change per ms for 1 s: at most one push per 250 ms, at least 250 ms apart, ending on the last value", () => {
    let seq = 0;
    for (let ms = 0; ms < 1000; ms++) {
      c.push("a", { seq: ++seq }, null);
      vi.advanceTimersByTime(1);
    }
    vi.advanceTimersByTime(300);
    expect(emitted.length).toBeLessThanOrEqual(1 + 1000 / 250);
    for (let i = 1; i < emitted.length; i++) {
      expect((emitted[i]?.at ?? 0) - (emitted[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(250);
      expect(emitted[i]?.seq).toBeGreaterThan(emitted[i - 1]?.seq ?? Infinity);
    }
    expect(emitted.at(-1)?.seq).toBe(1000);
  });
});

describe("Coalescer with jitter (balance pushes of busy accounts drift out of step)", () => {
  afterEach(() => vi.useRealTimers());

  it("holds each key at least the window plus its draw, never less, and still ends on the latest value", () => {
    vi.useFakeTimers();
    const emitted: { key: string; seq: number; at: number }[] = [];
    // Draws 0, 0.5, 0.999, … in turn: the wait is 250 + floor(draw × 60) ms.
    const draws = [0, 0.5, 0.999];
    let n = 0;
    const c = new Coalescer<{ seq: number }>(
      250,
      (key, v) => emitted.push({ key, seq: v.seq, at: Date.now() }),
      1,
      60,
      () => draws[n++ % draws.length] ?? 0,
    );
    const t0 = Date.now();
    // Three keys busy together: each pushes at once, then holds its next change.
    for (const key of ["a", "b", "c"]) c.push(key, { seq: 1 }, null);
    for (const key of ["a", "b", "c"]) c.push(key, { seq: 2 }, null);
    vi.advanceTimersByTime(249);
    expect(emitted.filter((e) => e.seq === 2)).toEqual([]);
    vi.advanceTimersByTime(100);
    const held = emitted.filter((e) => e.seq === 2);
    expect(held.map((e) => [e.key, e.at - t0])).toEqual([
      ["a", 250],
      ["b", 280],
      ["c", 309],
    ]);
    c.flush();
  });

  it("under 1 change per ms for 2 s: pushes at least the window apart, at most one per window, ending on the last value", () => {
    vi.useFakeTimers();
    const emitted: { seq: number; at: number }[] = [];
    const c = new Coalescer<{ seq: number }>(250, (_k, v) => emitted.push({ seq: v.seq, at: Date.now() }), 1, 62);
    let seq = 0;
    for (let ms = 0; ms < 2000; ms++) {
      c.push("a", { seq: ++seq }, null);
      vi.advanceTimersByTime(1);
    }
    vi.advanceTimersByTime(400);
    expect(emitted.length).toBeLessThanOrEqual(1 + 2000 / 250);
    for (let i = 1; i < emitted.length; i++) {
      expect((emitted[i]?.at ?? 0) - (emitted[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(250);
      expect(emitted[i]?.seq).toBeGreaterThan(emitted[i - 1]?.seq ?? Infinity);
    }
    expect(emitted.at(-1)?.seq).toBe(2000);
    c.flush();
  });

  it("lets keys that got busy together drift out of step instead of all emitting in the same tick", () => {
    vi.useFakeTimers();
    // 20 accounts busy from the same moment, a change each every 10 ms for 4 s; a seeded draw.
    const lockstep = (jitterMs: number): number => {
      let state = 42;
      const random = (): number => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
      const at: number[] = [];
      const c = new Coalescer<{ seq: number }>(250, () => at.push(Date.now()), 1, jitterMs, random);
      const t0 = Date.now();
      let seq = 0;
      for (let ms = 0; ms < 4000; ms += 10) {
        seq += 1;
        for (let k = 0; k < 20; k++) c.push(`a:${k}`, { seq }, null);
        vi.advanceTimersByTime(10);
      }
      c.flush();
      // The most emits within one 10 ms stretch, over the last 2 s.
      const buckets = new Map<number, number>();
      for (const t of at.filter((t) => t - t0 >= 2000 && t - t0 < 4000)) {
        const b = Math.floor((t - t0) / 10);
        buckets.set(b, (buckets.get(b) ?? 0) + 1);
      }
      return Math.max(...buckets.values());
    };
    expect(lockstep(0)).toBe(20);
    expect(lockstep(62)).toBeLessThanOrEqual(8);
  });
});
