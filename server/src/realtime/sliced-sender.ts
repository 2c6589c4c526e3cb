import type { Sequenced } from "./coalescer.js";

/** How big one slice of room broadcasts may be, and how to size a room. */
export interface SliceLimits {
  /** Socket writes per slice: rooms go out until their sockets add up to this (a bigger room goes alone). */
  writes: number;
  /** Rooms per slice, whatever their size (a process with no local members sizes every room 0). */
  rooms: number;
  /** How long a slice's writes are waited for before the next slice goes anyway (a publish stuck on a lost connection). */
  stallMs: number;
  /** The sockets a broadcast to `room` writes to on this node. */
  size(room: string): number;
}

/** Sends one room's value (the actual broadcast); resolves once it is written to this node's sockets. */
export type SendToRoom<T> = (room: string, value: T) => Promise<void> | void;

interface Slice {
  writes: number;
  rooms: number;
  /** Sends not yet written to this node's sockets. */
  unfinished: number;
  /** The turn that opened it has ended: nothing more joins it. */
  closed: boolean;
  /** Gives up waiting for the writes after `stallMs`. */
  stalled: NodeJS.Timeout | null;
}

/**
 * Spreads room broadcasts over turns of the event loop. The paced balance pushes of many busy
 * accounts fall due together (their intervals start together) and were written in one synchronous
 * burst of thousands of socket writes, which held the session updates people watch behind them
 * (docs/performance.md, "Big accounts: the burst"). Here a broadcast goes out at once when the
 * current slice has room for it; the rest wait, in order, and go out a slice at a time, each slice
 * only once the one before is written to this node's sockets (with the sharded Redis adapter that
 * is when its publish is answered; the classic one writes at once) and the loop has gone round, so
 * other I/O runs between slices. A room offered again while it still waits keeps its place and
 * takes the newer value: what goes out is always the latest, never an older seq after a newer one.
 * It bounds this node's writes only: other nodes write what they hear of a slice unsliced
 * (docs/realtime.md).
 */
export class SlicedSender<T extends Sequenced> {
  /** Rooms waiting for a slice, oldest first (a Map keeps insertion order), with their newest value. */
  private readonly waiting = new Map<string, T>();
  /** The slice of the current turn, open to more sends until the turn ends. */
  private current: Slice | null = null;
  /** The last closed slice, until it is written. */
  private writing: Slice | null = null;
  private drainScheduled = false;

  constructor(
    private readonly limits: SliceLimits,
    private readonly send: SendToRoom<T>,
  ) {}

  /** Rooms waiting for a slice. */
  get backlog(): number {
    return this.waiting.size;
  }

  /** Sends `value` to `room` now if the current slice has room for it, else as soon as a slice does. */
  offer(room: string, value: T): void {
    const queued = this.waiting.get(room);
    if (queued) {
      if (value.seq >= queued.seq) this.waiting.set(room, value);
      return;
    }
    if (this.waiting.size === 0 && this.fits(room)) return this.sendNow(room, value);
    this.waiting.set(room, value);
  }

  /** Sends everything waiting at once (shutdown). */
  flush(): void {
    const all = [...this.waiting];
    this.waiting.clear();
    for (const [room, value] of all) void Promise.resolve(this.send(room, value)).catch(() => undefined);
  }

  /** Whether `room` may go out now: it fits in the open slice, or no slice is still being written. */
  private fits(room: string): boolean {
    const open = this.current;
    if (!open) return this.writing === null;
    return open.rooms < this.limits.rooms && open.writes + this.limits.size(room) <= this.limits.writes;
  }

  private sendNow(room: string, value: T): void {
    let slice = this.current;
    if (!slice) {
      const opened: Slice = { writes: 0, rooms: 0, unfinished: 0, closed: false, stalled: null };
      slice = this.current = opened;
      // The slice is this turn's: setImmediate runs after the poll phase, so I/O that arrived
      // meanwhile (replies, session updates) is handled before anything else joins a slice.
      setImmediate(() => this.close(opened));
    }
    slice.writes += this.limits.size(room);
    slice.rooms += 1;
    slice.unfinished += 1;
    const done = (): void => {
      slice.unfinished = Math.max(0, slice.unfinished - 1);
      this.settle(slice);
    };
    Promise.resolve(this.send(room, value)).then(done, done);
  }

  private close(slice: Slice): void {
    slice.closed = true;
    if (this.current === slice) this.current = null;
    this.writing = slice;
    if (slice.unfinished > 0) {
      const stalled = setTimeout(() => {
        slice.unfinished = 0;
        this.settle(slice);
      }, this.limits.stallMs);
      stalled.unref();
      slice.stalled = stalled;
    }
    this.settle(slice);
  }

  /** Once a closed slice is written, the next one may go (on the next turn). */
  private settle(slice: Slice): void {
    if (!slice.closed || slice.unfinished > 0 || this.writing !== slice) return;
    if (slice.stalled) clearTimeout(slice.stalled);
    this.writing = null;
    if (this.waiting.size === 0 || this.drainScheduled) return;
    this.drainScheduled = true;
    setImmediate(() => {
      this.drainScheduled = false;
      this.drain();
    });
  }

  private drain(): void {
    for (const [room, value] of this.waiting) {
      if (!this.fits(room)) break;
      this.waiting.delete(room);
      this.sendNow(room, value);
    }
  }
}
