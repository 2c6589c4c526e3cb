import type { JobsOptions } from "bullmq";
import type { Config } from "../config/config.js";

/**
 * BullMQ options of the events this server queues for HTTP clients: `eventAttempts` attempts with
 * exponential backoff from `eventBackoffMs` (1 s, 2 s, 4 s, …), so that a Redis outage longer than
 * one attempt's ledger retries does not fail the event. Only transient errors are retried: invalid
 * input, an unknown account and a conflicting eventId are UnrecoverableError (process-event.ts) and
 * fail at the first attempt. Retrying is safe: the eventId makes a repeat a no-op.
 */
export function ingestJobOptions(config: Pick<Config, "eventAttempts" | "eventBackoffMs">): JobsOptions {
  return { attempts: config.eventAttempts, backoff: { type: "exponential", delay: config.eventBackoffMs } };
}
