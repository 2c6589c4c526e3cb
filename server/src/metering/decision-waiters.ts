// One listener of the queue's completion events per process, shared by every POST /v1/events?wait
// of that process: a waiting request costs a map entry and a timer, never a Redis connection or a
// poll loop (CONTRACT §4, issue 14). The listener runs only while requests wait (and a while
// after): reading and parsing the events of every job (active, completed, ...) cost a process
// that also consumes ~12 µs a job, ~8 % of its CPU in the drain (profiled, issue 17).

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
  close(): Promise<void>;
}

/** Opens listeners of the queue's events stream (a QueueEvents each). */
export interface QueueEventsOpener {
  /** The id of the newest entry in the events stream now ("0-0" when empty). */
  lastEventId(): Promise<string>;
  /** A listener of every event after `lastEventId`, whenever its connection gets going. */
  open(lastEventId: string): QueueEventSource;
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

/**
 * The process's waiters by job id, fed by one QueueEvents while any wait. A listener opened for a
 * watch reads from the stream's newest entry as it was before the watch returned, so nothing the
 * watched job does after that is missed, however late the listener's connection starts reading.
 * It is closed once nobody has waited for `idleMs`.
 */
export class DecisionWaiters {
  private readonly byJob = new Map<string, Set<JobWatch>>();
  private listener: Promise<QueueEventSource> | null = null;
  /** Bumped on each close: a closing listener's late events are dropped, the next one's are not. */
  private generation = 0;
  private idle: NodeJS.Timeout | null = null;

  constructor(
    private readonly opener: QueueEventsOpener,
    private readonly idleMs = 60_000,
  ) {}

  /** How many requests wait now (a gauge for tests and metrics). */
  get size(): number {
    let n = 0;
    for (const set of this.byJob.values()) n += set.size;
    return n;
  }

  /** True while a listener is open or opening (tests). */
  get listening(): boolean {
    return this.listener !== null;
  }

  /** Starts listening for `jobId`; resolves once nothing after this call can be missed (call it before adding the job). */
  async watch(jobId: string, waitMs: number): Promise<Watch> {
    const w = new JobWatch(waitMs, (done) => {
      const set = this.byJob.get(jobId);
      set?.delete(done);
      if (set?.size === 0) this.byJob.delete(jobId);
      if (this.byJob.size === 0) this.closeWhenIdle();
    });
    const set = this.byJob.get(jobId) ?? new Set<JobWatch>();
    set.add(w);
    this.byJob.set(jobId, set);
    if (this.idle) clearTimeout(this.idle);
    this.idle = null;
    try {
      await this.listen();
    } catch (err) {
      w.cancel();
      throw err;
    }
    return w;
  }

  /** Closes the listener (the process stops). */
  async close(): Promise<void> {
    if (this.idle) clearTimeout(this.idle);
    await this.stop();
  }

  private listen(): Promise<QueueEventSource> {
    if (this.listener) return this.listener;
    const gen = this.generation;
    const opening = this.opener.lastEventId().then((from) => {
      const source = this.opener.open(from);
      const live = () => gen === this.generation;
      source.on("completed", ({ jobId, returnvalue }) => {
        if (live()) this.deliver(jobId, { kind: "completed", returnvalue });
      });
      source.on("failed", ({ jobId, failedReason }) => {
        if (live()) this.deliver(jobId, { kind: "failed", reason: failedReason });
      });
      source.on("duplicated", ({ jobId }) => {
        if (live()) this.deliver(jobId, { kind: "duplicated" });
      });
      return source;
    });
    this.listener = opening;
    opening.catch(() => {
      if (this.listener === opening) this.listener = null;
    });
    return opening;
  }

  private closeWhenIdle(): void {
    if (this.idle || this.listener === null) return;
    this.idle = setTimeout(() => {
      this.idle = null;
      if (this.byJob.size === 0) void this.stop();
    }, this.idleMs);
    this.idle.unref();
  }

  private async stop(): Promise<void> {
    const listener = this.listener;
    this.listener = null;
    this.generation += 1;
    const source = await listener?.catch(() => null);
    await source?.close();
  }

  private deliver(jobId: string, h: Heard): void {
    const set = this.byJob.get(jobId);
    if (set) for (const w of set) w.push(h);
  }
}
