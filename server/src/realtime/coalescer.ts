/** A snapshot that carries its own ordering. */
export interface Sequenced {
  seq: number;
}

interface Slot<T> {
  /** When this key's recent emits went out (ms), oldest first; at most `burst` of them. */
  sent: number[];
  pending: T | null;
  /** The highest seq this key has emitted: an older snapshot offered later is already superseded. */
  lastSeq: number;
  /** The oldest event time among what is pending, for the event-to-push metric. */
  pendingSince: number | null;
  timer: NodeJS.Timeout | null;
}

export type Emit<T> = (key: string, value: T, occurredAtMs: number | null) => void;

/**
 * Per-key rate limit that merges instead of dropping: up to `burst` emits per `windowMs` go out
 * the moment they are offered; beyond that, changes are held and go out as one emit carrying the
 * snapshot with the highest seq as soon as the window has room again. A person sees every
 * isolated change at once (a merge window on every key put a 50 ms wait on the second of two
 * close charges), while a flood in one room costs at most burst/window pushes.
 */
export class Coalescer<T extends Sequenced> {
  private readonly slots = new Map<string, Slot<T>>();
  private sweeper: NodeJS.Timeout | null = null;

  /**
   * `jitterMs` adds a random 0..jitterMs to each held emit's wait (never less than the window):
   * keys that got busy together would otherwise stay in step, their held emits falling due in the
   * same tick every window; the jitter lets their phases drift apart (docs/realtime.md).
   */
  constructor(
    private readonly windowMs: number,
    private readonly emit: Emit<T>,
    private readonly burst = 3,
    private readonly jitterMs = 0,
    private readonly random: () => number = Math.random,
  ) {}

  /** How many keys it currently remembers (recently emitted or holding a change). */
  get size(): number {
    return this.slots.size;
  }

  /** Offers a snapshot for `key`. */
  push(key: string, value: T, occurredAtMs: number | null): void {
    if (this.windowMs <= 0) return this.emit(key, value, occurredAtMs);
    const now = Date.now();
    let slot = this.slots.get(key);
    if (!slot) {
      slot = { sent: [], pending: null, pendingSince: null, timer: null, lastSeq: -1 };
      this.slots.set(key, slot);
      this.startSweeping();
    }
    // Out-of-order arrival (two batches finishing in the other order): never let the older one be
    // the last thing a burst sends. An equal seq still goes out: that is a deliberate re-push.
    if (value.seq < slot.lastSeq) return;
    if (!slot.pending && this.admit(slot, now)) return this.send(key, slot, value, occurredAtMs);
    if (!slot.pending || value.seq >= slot.pending.seq) slot.pending = value;
    if (occurredAtMs !== null && (slot.pendingSince === null || occurredAtMs < slot.pendingSince))
      slot.pendingSince = occurredAtMs;
    if (!slot.timer) this.arm(key, slot, now);
  }

  /** Emits everything still held (on shutdown) and stops the timers. */
  flush(): void {
    for (const [key, slot] of this.slots) {
      if (slot.timer) clearTimeout(slot.timer);
      if (slot.pending) this.emit(key, slot.pending, slot.pendingSince);
    }
    this.slots.clear();
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
  }

  /** Records an emit at `now` if the window has room for it. */
  private admit(slot: Slot<T>, now: number): boolean {
    while (slot.sent.length > 0 && (slot.sent[0] ?? now) <= now - this.windowMs) slot.sent.shift();
    if (slot.sent.length >= this.burst) return false;
    slot.sent.push(now);
    return true;
  }

  private arm(key: string, slot: Slot<T>, now: number): void {
    const jitter = this.jitterMs > 0 ? Math.floor(this.random() * this.jitterMs) : 0;
    const wait = (slot.sent[0] ?? now) + this.windowMs - now + jitter;
    slot.timer = setTimeout(() => this.trail(key), Math.max(1, wait));
  }

  private trail(key: string): void {
    const slot = this.slots.get(key);
    if (!slot) return;
    slot.timer = null;
    if (!slot.pending) return;
    const now = Date.now();
    if (!this.admit(slot, now)) return this.arm(key, slot, now);
    const { pending, pendingSince } = slot;
    slot.pending = null;
    slot.pendingSince = null;
    this.send(key, slot, pending, pendingSince);
  }

  private send(key: string, slot: Slot<T>, value: T, occurredAtMs: number | null): void {
    slot.lastSeq = Math.max(slot.lastSeq, value.seq);
    this.emit(key, value, occurredAtMs);
  }

  // Keys of rooms that went quiet are forgotten, so the map holds only recently active rooms.
  private startSweeping(): void {
    if (this.sweeper) return;
    this.sweeper = setInterval(
      () => {
        const horizon = Date.now() - this.windowMs;
        for (const [key, slot] of this.slots) {
          if (!slot.pending && (slot.sent.at(-1) ?? 0) <= horizon) this.slots.delete(key);
        }
        if (this.slots.size === 0 && this.sweeper) {
          clearInterval(this.sweeper);
          this.sweeper = null;
        }
      },
      Math.max(1000, this.windowMs * 10),
    );
    this.sweeper.unref();
  }
}
