// One listener of the queue's completion events per process, shared by every POST /v1/events?wait
// of that process: a waiting request costs a map entry and a timer, never a Redis connection or a
// poll loop (CONTRACT §4, issue 14).

/** What a waiter can hear about its job. */
export type Heard =
  | { kind: "completed"; returnvalue: unknown }
  | { kind: "failed"; reason: string }
  /** The job id already existed: add() changed nothing (the job may be failed, or queued). */
  | { kind: "duplicated" }
  | { kind: "timeout" };

/** One request's subscription to its job's events, until cancel(). */
export interface Watch {
  /** The next thing heard (in order), or `timeout` once the deadline has passed. */
  next(): Promise<Heard>;
  cancel(): void;
}

/** The slice of BullMQ's QueueEvents the waiters listen to. */
export interface QueueEventSource {
  on(event: "completed", listener: (args: { jobId: string; returnvalue: unknown }) => void): unknown;
  on(event: "failed", listener: (args: { jobId: string; failedReason: string }) => void): unknown;
  on(event: "duplicated", listener: (args: { jobId: string }) => void): unknown;
}

class JobWatch implements Watch {
  private readonly heard: Heard[] = [];
  private wake: ((h: Heard) => void) | null = null;
  private readonly timer: NodeJS.Timeout;

  constructor(
    waitMs: number,
    private readonly onCancel: (w: JobWatch) => void,
  ) {
    this.timer = setTimeout(() => this.push({ kind: "timeout" }), waitMs);
  }

  push(h: Heard): void {
    if (this.wake) {
      const wake = this.wake;
      this.wake = null;
      wake(h);
    } else this.heard.push(h);
  }

  next(): Promise<Heard> {
    const h = this.heard.shift();
    if (h) return Promise.resolve(h);
    return new Promise((resolve) => (this.wake = resolve));
  }

  cancel(): void {
    clearTimeout(this.timer);
    this.onCancel(this);
  }
}

/** The process's waiters by job id, fed by one QueueEvents. */
export class DecisionWaiters {
  private readonly byJob = new Map<string, Set<JobWatch>>();

  constructor(source: QueueEventSource) {
    source.on("completed", ({ jobId, returnvalue }) => this.deliver(jobId, { kind: "completed", returnvalue }));
    source.on("failed", ({ jobId, failedReason }) => this.deliver(jobId, { kind: "failed", reason: failedReason }));
    source.on("duplicated", ({ jobId }) => this.deliver(jobId, { kind: "duplicated" }));
  }

  /** How many requests wait now (a gauge for tests and metrics). */
  get size(): number {
    let n = 0;
    for (const set of this.byJob.values()) n += set.size;
    return n;
  }

  /** Starts listening for `jobId` (before the job is added, so that no event is missed). */
  watch(jobId: string, waitMs: number): Watch {
    const w = new JobWatch(waitMs, (done) => {
      const set = this.byJob.get(jobId);
      set?.delete(done);
      if (set?.size === 0) this.byJob.delete(jobId);
    });
    const set = this.byJob.get(jobId) ?? new Set<JobWatch>();
    set.add(w);
    this.byJob.set(jobId, set);
    return w;
  }

  private deliver(jobId: string, h: Heard): void {
    const set = this.byJob.get(jobId);
    if (set) for (const w of set) w.push(h);
  }
}
