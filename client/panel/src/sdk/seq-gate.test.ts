import { describe, expect, it } from "vitest";
import { SeqGate } from "./seq-gate.js";
import { jitteredDelay } from "./backoff.js";

describe("SeqGate", () => {
  it("lets through only what is newer, per key", () => {
    const gate = new SeqGate();
    expect([5, 6, 4, 6, 8, 7].map((seq) => gate.accept("s1", seq))).toEqual([true, true, false, false, true, false]);
    expect(gate.accept("s2", 1)).toBe(true);
    gate.forget("s1");
    expect(gate.accept("s1", 2)).toBe(true);
  });
});

describe("jitteredDelay", () => {
  it("grows exponentially, stays within the randomization band and the cap", () => {
    const opts = { baseMs: 100, maxMs: 1000, randomizationFactor: 0.5 };
    expect(jitteredDelay(0, opts, () => 0.5)).toBe(100);
    expect(jitteredDelay(0, opts, () => 0)).toBe(50);
    expect(jitteredDelay(0, opts, () => 1)).toBe(150);
    expect(jitteredDelay(3, opts, () => 0.5)).toBe(800);
    expect(jitteredDelay(10, opts, () => 1)).toBe(1000);
  });
});
