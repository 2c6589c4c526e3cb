import { QueueEvents, type Queue } from "bullmq";
import type { ResolvedConnection } from "./redis-connection.js";

/** How a job ended: the processor's return value, or the reason it failed for good. */
export type JobOutcome =
  { kind: "completed"; value: unknown } | { kind: "failed"; reason: string } | { kind: "timeout" };

interface Pending {
  settle(outcome: JobOutcome): void;
  abort(): void;
}

/**
 * Waits for the outcome of jobs by id with one QueueEvents (a dedicated connection) shared by
 * every call. The event stream is read from the entry that was last when listening began, not
 * from `$`, so an answer published between two blocking reads is never lost.
 */
export class OutcomeWaiter {
  private events: Promise<QueueEvents> | undefined;
  private readonly pending = new Map<string, Set<Pending>>();
  private closed = false;

  constructor(
    private readonly queue: Queue,
    private readonly connection: ResolvedConnection,
    private readonly onError: (error: Error) => void,
  ) {}

  /** Starts listening (once). Await it before adding a job whose answer you will wait for. */
  async listen(): Promise<void> {
    if (this.closed) throw new Error("the reporter is closed");
    if (!this.events) {
      const opening = this.openEvents();
      this.events = opening;
      // A failed start (Redis down) is not remembered: the next call tries again.
      opening.catch(() => {
        if (this.events === opening) this.events = undefined;
      });
    }
    await this.events;
  }

  /** Resolves with the job's outcome, or `timeout` after `timeoutMs`; call `listen` first. */
  wait(jobId: string, timeoutMs: number, onAbort: () => Error): Promise<JobOutcome> {
    return new Promise<JobOutcome>((resolve, reject) => {
      if (this.closed) return reject(onAbort());
      const waiters = this.pending.get(jobId) ?? new Set<Pending>();
      this.pending.set(jobId, waiters);
      const done = (): void => {
        clearTimeout(timer);
        waiters.delete(entry);
        if (waiters.size === 0) this.pending.delete(jobId);
      };
      const entry: Pending = {
        settle(outcome) {
          done();
          resolve(outcome);
        },
        abort() {
          done();
          reject(onAbort());
        },
      };
      const timer = setTimeout(() => entry.settle({ kind: "timeout" }), timeoutMs);
      waiters.add(entry);
      // The job may have finished before we started listening (a repeated call, a fast server).
      this.finishedOutcome(jobId).then(
        function settleIfFinished(outcome) {
          if (outcome && waiters.has(entry)) entry.settle(outcome);
        },
        (error: unknown) => this.onError(error instanceof Error ? error : new Error(String(error))),
      );
    });
  }

  /** Stops listening; every call still waiting rejects with its abort error. */
  async close(): Promise<void> {
    this.closed = true;
    for (const waiters of [...this.pending.values()]) for (const w of [...waiters]) w.abort();
    const events = this.events;
    this.events = undefined;
    const queueEvents = await events?.catch(() => undefined);
    await queueEvents?.close();
  }

  private async openEvents(): Promise<QueueEvents> {
    await this.queue.waitUntilReady();
    const lastEventId = await this.connection.lastStreamId(this.queue.toKey("events"));
    const events = new QueueEvents(this.queue.name, {
      connection: this.connection.bull,
      prefix: this.queue.opts.prefix,
      lastEventId,
    });
    events.on("error", this.onError);
    events.on("completed", ({ jobId, returnvalue }) => this.deliver(jobId, { kind: "completed", value: returnvalue }));
    events.on("failed", ({ jobId, failedReason }) => this.deliver(jobId, { kind: "failed", reason: failedReason }));
    await events.waitUntilReady();
    return events;
  }

  private deliver(jobId: string, outcome: JobOutcome): void {
    for (const waiter of [...(this.pending.get(jobId) ?? [])]) waiter.settle(outcome);
  }

  private async finishedOutcome(jobId: string): Promise<JobOutcome | undefined> {
    const state = await this.queue.getJobState(jobId);
    if (state !== "completed" && state !== "failed") return undefined;
    const job = await this.queue.getJob(jobId);
    if (!job) return undefined;
    return state === "completed"
      ? { kind: "completed", value: job.returnvalue }
      : { kind: "failed", reason: job.failedReason };
  }
}
