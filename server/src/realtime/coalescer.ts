/** A snapshot that carries its own ordering. */
export interface Sequenced {
  seq: number;
}

interface Slot<T> {
  timer: NodeJS.Timeout;
  pending: T | null;
  /** The oldest event time among what is pending, for the event-to-push metric. */
  pendingSince: number | null;
}

export type Emit<T> = (key: string, value: T, occurredAtMs: number | null) => void;

/**
 * Leading-edge plus trailing coalescing per key: an isolated change is emitted at once; changes
 * arriving within `windowMs` of an emit are held and go out as one trailing emit carrying the
 * snapshot with the highest seq. The latest value is never dropped, only merged.
 */
export class Coalescer<T extends Sequenced> {
  private readonly slots = new Map<string, Slot<T>>();

  constructor(
    private readonly windowMs: number,
    private readonly emit: Emit<T>,
  ) {}

  /** Offers a snapshot for `key`. */
  push(key: string, value: T, occurredAtMs: number | null): void {
    const slot = this.slots.get(key);
    if (this.windowMs <= 0) return this.emit(key, value, occurredAtMs);
    if (!slot) {
      this.emit(key, value, occurredAtMs);
      this.slots.set(key, { timer: this.arm(key), pending: null, pendingSince: null });
      return;
    }
    if (!slot.pending || value.seq >= slot.pending.seq) slot.pending = value;
    if (occurredAtMs !== null && (slot.pendingSince === null || occurredAtMs < slot.pendingSince)) slot.pendingSince = occurredAtMs;
  }

  /** Emits everything still held (on shutdown) and stops the timers. */
  flush(): void {
    for (const [key, slot] of this.slots) {
      clearTimeout(slot.timer);
      if (slot.pending) this.emit(key, slot.pending, slot.pendingSince);
    }
    this.slots.clear();
  }

  private arm(key: string): NodeJS.Timeout {
    return setTimeout(() => this.trail(key), this.windowMs);
  }

  private trail(key: string): void {
    const slot = this.slots.get(key);
    if (!slot) return;
    if (!slot.pending) {
      this.slots.delete(key);
      return;
    }
    const { pending, pendingSince } = slot;
    slot.pending = null;
    slot.pendingSince = null;
    this.emit(key, pending, pendingSince);
    // Keep the window open after a trailing emit, so a steady stream stays at one push per window.
    slot.timer = this.arm(key);
  }
}
