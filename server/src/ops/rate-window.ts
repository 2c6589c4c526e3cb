/**
 * At most `limit` events in any window of `windowMs`: remembers the last `limit` times. Used so
 * that `ops:charges` never exceeds its batches-per-second cap, whatever the timers do.
 */
export class RateWindow {
  private readonly times: number[] = [];

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** Records an event at `now` and returns true if it fits; false (nothing recorded) if not. */
  tryTake(now: number): boolean {
    if (this.times.length >= this.limit) {
      const oldest = this.times[0] ?? 0;
      if (now - oldest < this.windowMs) return false;
      this.times.shift();
    }
    this.times.push(now);
    return true;
  }
}
