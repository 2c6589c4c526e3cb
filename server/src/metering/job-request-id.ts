import type { JobsOptions } from "bullmq";
import { z } from "zod";

/** A request id as the access log keeps it (server/src/http/access-log.ts): short and plain. */
export const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The HTTP request that queued a job, carried in the job's options, not its data: the data is
 * the event of CONTRACT §2 (unknown fields fail it), and the eventId's fingerprint must not see
 * it, so the same event posted twice under two request ids stays a duplicate. BullMQ stores
 * options it does not know with the job and hands them back to the worker (checked by
 * test/ops/request-id.test.ts).
 */
const RequestIdOpts = z.object({ requestId: z.string().regex(SANE_REQUEST_ID) });

/** Job options carrying `requestId` (none when the event did not come over HTTP). */
export function withRequestId(opts: JobsOptions, requestId: string | undefined): JobsOptions {
  if (requestId === undefined) return opts;
  const carried: JobsOptions & { requestId: string } = { ...opts, requestId };
  return carried;
}

/** The request id a job was queued under, read at the worker's boundary with zod; null if none or not sane. */
export function requestIdOf(job: { opts?: unknown }): string | null {
  const parsed = RequestIdOpts.safeParse(job.opts);
  return parsed.success ? parsed.data.requestId : null;
}
