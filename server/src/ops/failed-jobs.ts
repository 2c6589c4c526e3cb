import type { Job } from "bullmq";

/** A failed (rejected) job as ops see it: what it was and why it failed. */
export interface FailedJob {
  jobId: string;
  name: string;
  failedReason: string;
  attemptsMade: number;
  failedAt: string | null;
  queuedAt: string;
  eventId: string | null;
  accountId: string | null;
  sessionId: string | null;
  /** The job's data, or `{ truncated: <bytes> }` when it is larger than DATA_PREVIEW_BYTES. */
  data: unknown;
}

/** One page of failed jobs, newest first. */
export interface FailedPage {
  total: number;
  offset: number;
  jobs: FailedJob[];
}

/** List, retry and discard the queue's failed jobs (the dead-letter view). */
export interface FailedJobs {
  list(offset: number, limit: number): Promise<FailedPage>;
  /** Moves a failed job back to waiting; false when there is no failed job of that id. */
  retry(jobId: string): Promise<boolean>;
  /** Removes a failed job for good; false when there is no failed job of that id. */
  discard(jobId: string): Promise<boolean>;
}

/** The slice of a BullMQ Queue the dead-letter view uses. */
export interface FailedJobsQueue {
  getFailed(start?: number, end?: number): Promise<Job[]>;
  getFailedCount(): Promise<number>;
  getJob(jobId: string): Promise<Job | undefined>;
}

const DATA_PREVIEW_BYTES = 4096;

function idField(data: unknown, name: string): string | null {
  if (typeof data !== "object" || data === null) return null;
  const value: unknown = Reflect.get(data, name);
  return typeof value === "string" ? value.slice(0, 128) : null;
}

function describe(job: Job): FailedJob {
  const json = JSON.stringify(job.data) ?? "null";
  return {
    jobId: job.id ?? "",
    name: job.name,
    failedReason: job.failedReason,
    attemptsMade: job.attemptsMade,
    failedAt: job.finishedOn === undefined ? null : new Date(job.finishedOn).toISOString(),
    queuedAt: new Date(job.timestamp).toISOString(),
    eventId: idField(job.data, "eventId"),
    accountId: idField(job.data, "accountId"),
    sessionId: idField(job.data, "sessionId"),
    data: json.length > DATA_PREVIEW_BYTES ? { truncated: json.length } : (job.data as unknown),
  };
}

/** The dead-letter view over `queue`. Retrying an `invalid_event` fails again; one for an account created since succeeds. */
export function failedJobs(queue: FailedJobsQueue): FailedJobs {
  async function failedJob(jobId: string): Promise<Job | null> {
    const job = await queue.getJob(jobId);
    return job && (await job.isFailed()) ? job : null;
  }
  return {
    async list(offset, limit) {
      const [total, jobs] = await Promise.all([queue.getFailedCount(), queue.getFailed(offset, offset + limit - 1)]);
      return { total, offset, jobs: jobs.map(describe) };
    },
    async retry(jobId) {
      const job = await failedJob(jobId);
      if (!job) return false;
      await job.retry("failed");
      return true;
    },
    async discard(jobId) {
      const job = await failedJob(jobId);
      if (!job) return false;
      await job.remove();
      return true;
    },
  };
}
