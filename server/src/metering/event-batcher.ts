import type { CreditmeterError, StageEvent } from "@creditmeter/shared";
import type { LedgerOutcome } from "../ledger/outcome.js";

/** What the batcher needs of the ledger. */
export interface BatchLedger {
  applyEvents(events: StageEvent[]): Promise<(LedgerOutcome | CreditmeterError)[]>;
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
 * batching adds no wait of its own. Each event still gets its own outcome or error; a failed call
 * fails every event in it, and each job retries on its own (applying an event twice is a no-op).
 */
export class EventBatcher {
  private pending: Waiter[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(
    private readonly ledger: BatchLedger,
    private readonly opts: BatcherOptions = { maxBatch: 64, maxInFlight: 2 },
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

  private flush(): void {
    while (this.inFlight < this.opts.maxInFlight && this.pending.length > 0) {
      const batch = this.pending.splice(0, this.opts.maxBatch);
      this.inFlight += 1;
      this.ledger
        .applyEvents(batch.map((w) => w.event))
        .then(
          (outcomes) =>
            batch.forEach((w, i) => {
              const o = outcomes[i];
              if (o === undefined) w.reject(new Error("the ledger returned no outcome for an event"));
              else if (o instanceof Error) w.reject(o);
              else w.resolve(o);
            }),
          (err: unknown) => batch.forEach((w) => w.reject(err)),
        )
        .finally(() => {
          this.inFlight -= 1;
          this.schedule();
        });
    }
  }
}
