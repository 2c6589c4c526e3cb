import { describe, expect, it } from "vitest";
import { SlicedSender, type SliceLimits } from "./sliced-sender.js";

interface Sent {
  room: string;
  seq: number;
  /** Which turn of the event loop it went out in (the test counts turns with setImmediate). */
  turn: number;
  /** When it went out (Date.now()). */
  at: number;
}

/** A sender whose writes complete when the test says so (like a publish waiting for Redis). */
function harness(limits: Partial<SliceLimits> = {}, sizes: Record<string, number> = {}) {
  const sent: Sent[] = [];
  const writes: (() => void)[] = [];
  let turn = 0;
  let counting = true;
  const tick = (): void => {
    turn += 1;
    if (counting) setImmediate(tick);
  };
  setImmediate(tick);
  const sender = new SlicedSender<{ seq: number }>(
    { writes: 200, rooms: 50, stallMs: 60_000, size: (room) => sizes[room] ?? 100, ...limits },
    (room, value) => {
      sent.push({ room, seq: value.seq, turn, at: Date.now() });
      return new Promise<void>((resolve) => writes.push(resolve));
    },
  );
  return {
    sender,
    sent,
    /** Completes every write so far. */
    written(): void {
      for (const w of writes.splice(0)) w();
    },
    stop(): void {
      counting = false;
    },
  };
}

/** Lets the event loop go round `n` times. */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

describe("SlicedSender", () => {
  it("sends a lone room at once, in the caller's turn", () => {
    const h = harness();
    h.sender.offer("a:1", { seq: 1 });
    expect(h.sent.map((s) => s.room)).toEqual(["a:1"]);
    h.stop();
  });

  it("sends rooms beyond a slice's writes in later slices, each only once the one before is written", async () => {
    const h = harness();
    for (let i = 0; i < 7; i++) h.sender.offer(`a:${i}`, { seq: i });
    // 200 writes a slice, 100 sockets a room: two now, five waiting in order.
    expect(h.sent.map((s) => s.room)).toEqual(["a:0", "a:1"]);
    expect(h.sender.backlog).toBe(5);
    await turns(5);
    expect(h.sent).toHaveLength(2);
    for (const expected of [["a:2", "a:3"], ["a:4", "a:5"], ["a:6"]]) {
      const before = h.sent.length;
      h.written();
      await turns(3);
      expect(h.sent.slice(before).map((s) => s.room)).toEqual(expected);
      // A slice goes out within one turn, and a later turn than the slice before.
      expect(new Set(h.sent.slice(before).map((s) => s.turn)).size).toBe(1);
      expect(h.sent[before]?.turn).toBeGreaterThan(h.sent[before - 1]?.turn ?? Infinity);
    }
    expect(h.sender.backlog).toBe(0);
    h.stop();
  });

  it("takes the newer value for a room that waits, keeps its place, and never sends an older seq after it", async () => {
    const h = harness();
    h.sender.offer("a:0", { seq: 1 });
    h.sender.offer("a:1", { seq: 1 });
    h.sender.offer("a:2", { seq: 5 });
    h.sender.offer("a:3", { seq: 1 });
    h.sender.offer("a:2", { seq: 7 });
    h.sender.offer("a:2", { seq: 6 });
    h.written();
    await turns(3);
    expect(h.sent.map((s) => [s.room, s.seq])).toEqual([
      ["a:0", 1],
      ["a:1", 1],
      ["a:2", 7],
      ["a:3", 1],
    ]);
    h.stop();
  });

  it("holds a lone room while a slice is still being written, then sends it", async () => {
    const h = harness();
    h.sender.offer("a:0", { seq: 1 });
    await turns(2);
    h.sender.offer("a:1", { seq: 1 });
    expect(h.sent).toHaveLength(1);
    h.written();
    await turns(3);
    expect(h.sent.map((s) => s.room)).toEqual(["a:0", "a:1"]);
    h.stop();
  });

  it("bounds a slice by rooms when this node has no members (sizes 0)", async () => {
    const h = harness({ rooms: 3 }, Object.fromEntries(Array.from({ length: 7 }, (_, i) => [`a:${i}`, 0])));
    for (let i = 0; i < 7; i++) h.sender.offer(`a:${i}`, { seq: i });
    expect(h.sent).toHaveLength(3);
    h.written();
    await turns(3);
    expect(h.sent).toHaveLength(6);
    h.stop();
  });

  it("sends a room bigger than a slice alone", async () => {
    const h = harness({}, { big: 1000 });
    h.sender.offer("big", { seq: 1 });
    h.sender.offer("a:1", { seq: 1 });
    expect(h.sent.map((s) => s.room)).toEqual(["big"]);
    h.written();
    await turns(3);
    expect(h.sent.map((s) => s.room)).toEqual(["big", "a:1"]);
    h.stop();
  });

  it("goes on after stallMs when a slice's writes never complete", async () => {
    const h = harness({ stallMs: 30 });
    const t0 = Date.now();
    for (let i = 0; i < 3; i++) h.sender.offer(`a:${i}`, { seq: i });
    expect(h.sent).toHaveLength(2);
    await turns(5);
    expect(h.sent).toHaveLength(2);
    // Polled, not slept: on a loaded machine a fixed sleep can end in the same timers phase as the
    // stall timer, before the drain it schedules has run.
    const deadline = Date.now() + 10_000;
    while (h.sent.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(h.sent.map((s) => s.room)).toEqual(["a:0", "a:1", "a:2"]);
    // Only after the stall: a sender that did not wait for it passed the checks above as well.
    // (Less 1 ms: Date.now() and the timer clock round apart.)
    expect((h.sent[2]?.at ?? 0) - t0).toBeGreaterThanOrEqual(29);
    h.stop();
  });

  it("flush sends everything waiting at once", () => {
    const h = harness();
    for (let i = 0; i < 5; i++) h.sender.offer(`a:${i}`, { seq: i });
    h.sender.flush();
    expect(h.sent.map((s) => s.room)).toEqual(["a:0", "a:1", "a:2", "a:3", "a:4"]);
    expect(h.sender.backlog).toBe(0);
    h.stop();
  });
});
