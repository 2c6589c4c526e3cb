import type { Job, Worker } from "bullmq";
import type { EventResult } from "@creditmeter/shared";
import { requestIdOf } from "../metering/job-request-id.js";

/** The slice of a pino logger job logging uses. */
export interface JobLogger {
  debug(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  isLevelEnabled?(level: string): boolean;
}

/** A string field of untrusted job data (at most 128 characters), or null: for logs and alerts only. */
export function idOf(data: unknown, name: string): string | null {
  if (typeof data !== "object" || data === null) return null;
  const value: unknown = Reflect.get(data, name);
  return typeof value === "string" ? value.slice(0, 128) : null;
}

/** The ids every log line about one job carries. */
export interface JobIds {
  jobId: string | null;
  eventId: string | null;
  accountId: string | null;
  sessionId: string | null;
  /** The HTTP request that queued the job (the access log's `req.id`); null for jobs added by workers. */
  requestId: string | null;
}

/** The ids every log line about one job carries: jobId, eventId, accountId, sessionId, requestId. */
export function jobIds(job: Pick<Job, "id" | "data" | "opts">): JobIds {
  return {
    jobId: job.id ?? null,
    requestId: requestIdOf(job),
    eventId: idOf(job.data, "eventId"),
    accountId: idOf(job.data, "accountId"),
    sessionId: idOf(job.data, "sessionId"),
  };
}

/**
 * One JSON log line per finished job: a failure (rejected or out of retries) at warn with its
 * reason, a processed event at debug (thousands a second would drown an info log).
 */
export function logJobs(worker: Worker<unknown, EventResult>, logger: JobLogger): void {
  worker.on("failed", (job, err) => {
    const ids: JobIds = job ? jobIds(job) : { jobId: null, eventId: null, accountId: null, sessionId: null, requestId: null };
    logger.warn({ ...ids, type: job?.name ?? null, reason: err.message, attemptsMade: job?.attemptsMade ?? null }, "event failed");
  });
  // Profiled: building the line for every job cost 2 % of the consumer's CPU with debug off.
  if (logger.isLevelEnabled && !logger.isLevelEnabled("debug")) return;
  worker.on("completed", (job, result) => {
    logger.debug({ ...jobIds(job), type: job.name, status: result.status, charged: result.charged, held: result.held }, "event processed");
  });
}
