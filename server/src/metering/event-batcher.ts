import { CreditmeterError, type StageEvent } from "@creditmeter/shared";
import type { LedgerOutcome } from "../ledger/outcome.js";

/** What the batcher needs of the ledger. */
export interface BatchLedger {
  /** Outcomes in order; a CreditmeterError refuses its event, another Error says its call failed. */
  applyEvents(events: StageEvent[]): Promise<(LedgerOutcome | Error)[]>;
}

interface Waiter {
  event: StageEvent;
  resolve(outcome: LedgerOutcome): void;
  reject(err: unknown): void;
}

export interface BatcherOptions {
  /** Most events in one script call. */
  maxBatch: number;
  /** Script calls in flight at once; events arriving meanwhile wait for the next call. */
  maxInFlight: number;
}

/**
 * Group commit for the consumer's jobs: events handed in while the ledger is busy go to Redis
 * together, in one apply-events script call, instead of one round trip and one account load
 * each. An event offered to an idle batcher goes out on the next turn of the event loop, so
 * batching adds no wait of its own. Each event still gets its own outcome or error. A call that
 * fails is tried again one event at a time, so one poisoned event (say, a key of the wrong type)
 * fails alone instead of taking its batch with it; a failed script wrote nothing (see
 * apply-events-4a.lua), and applying an event twice is a no-op anyway.
 */
export class EventBatcher {
  private pending: Waiter[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(
    private readonly ledger: BatchLedger,
    private readonly opts: BatcherOptions = { maxBatch: 64, maxInFlight: 8 },
  ) {}

  /** Applies one event as part of the next batch. */
  applyEvent(event: StageEvent): Promise<LedgerOutcome> {
    return new Promise<LedgerOutcome>((resolve, reject) => {
      this.pending.push({ event, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.opts.maxInFlight || this.pending.length === 0) return;
    this.scheduled = true;
    // setImmediate, not a microtask: jobs whose replies arrived in the same read join this batch.
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  /**
   * One script call for `batch`; settles every waiter. Events whose call failed are tried again one
   * at a time, in order (two events of one account must not overtake each other).
   */
  private async apply(batch: Waiter[]): Promise<void> {
    let outcomes: (LedgerOutcome | Error)[];
    try {
      outcomes = await this.ledger.applyEvents(batch.map((w) => w.event));
    } catch (err) {
      outcomes = batch.map(() => (err instanceof Error ? err : new Error(String(err))));
    }
    const again: Waiter[] = [];
    batch.forEach((w, i) => {
      const o = outcomes[i];
      if (o === undefined) w.reject(new Error("the ledger returned no outcome for an event"));
      else if (o instanceof CreditmeterError || (o instanceof Error && batch.length === 1)) w.reject(o);
      else if (o instanceof Error) again.push(w);
      else w.resolve(o);
    });
    for (const w of again) await this.apply([w]);
  }

  private flush(): void {
    while (this.inFlight < this.opts.maxInFlight && this.pending.length > 0) {
      const batch = this.pending.splice(0, this.opts.maxBatch);
      this.inFlight += 1;
      this.apply(batch)
        .catch((err: unknown) => batch.forEach((w) => w.reject(err)))
        .finally(() => {
          this.inFlight -= 1;
          this.schedule();
        });
    }
  }
}
