import { describe, expect, it } from "vitest";
import { RateWindow } from "./rate-window.js";

describe("RateWindow", () => {
  it("lets at most `limit` through in any window, then one more once the oldest has aged out", () => {
    const w = new RateWindow(4, 1000);
    expect([0, 10, 20, 30].map((t) => w.tryTake(t))).toEqual([true, true, true, true]);
    expect(w.tryTake(999)).toBe(false);
    expect(w.tryTake(1000)).toBe(true);
    expect(w.tryTake(1009)).toBe(false);
    expect(w.tryTake(1010)).toBe(true);
  });
});
