// What an eventId already held by the queue or the ledger means for a new event posted with it.
// BullMQ drops a job whose id it already holds, so the ledger never sees a reused eventId while the
// first job is queued or failed: the intake looks after adding (CONTRACT §2 v1.1, a reused eventId
// with another body is a `conflict`, never a silent duplicate).
import type { Job, Queue } from "bullmq";
import { CreditmeterError, type StageEvent } from "@creditmeter/shared";
import { conflictError, fingerprintDifference, fingerprintValues } from "../ledger/event-batch.js";
import { fingerprintFromRecord, recordDifference } from "../ledger/event-record.js";

/** What holds the event's id: nothing else (or the same event, still to be decided), another event, a failed or a completed job. */
export type Prior =
  | { kind: "same" }
  | { kind: "conflict"; error: CreditmeterError }
  | { kind: "failed"; reason: string }
  | { kind: "completed"; returnvalue: unknown };

export interface PriorDeps {
  queue: Pick<Queue, "getJob">;
  readRecord(accountId: string, eventId: string): Promise<string | null>;
}

/** The accountId of a job's data, if it has one. */
export function accountOf(job: Job): unknown {
  const data: unknown = job.data;
  return typeof data === "object" && data !== null ? Reflect.get(data, "accountId") : undefined;
}

/** The refusal of an eventId that another account's job holds (job ids are queue-wide). */
export function otherAccountConflict(): CreditmeterError {
  const msg = "conflict: eventId: already used by an event of another account (job ids are queue-wide)";
  return new CreditmeterError("conflict", msg, "eventId");
}

/**
 * Looks at what holds `event.eventId` once it has been added: the queue's job (ours, or an earlier
 * one the add left in place) or, when the job is gone (completed and removed), the ledger's record.
 */
export async function priorOf(deps: PriorDeps, event: StageEvent): Promise<Prior> {
  const job = await deps.queue.getJob(event.eventId);
  if (job) {
    if (accountOf(job) !== event.accountId) return { kind: "conflict", error: otherAccountConflict() };
    const diff = fingerprintDifference(fingerprintValues(job.data), fingerprintValues(event));
    if (diff) return { kind: "conflict", error: conflictError(event, diff.field, diff.was, "queued") };
    const state = await job.getState();
    if (state === "failed") {
      // The job read may predate its failure (state is read after it): read it again for the reason.
      const reason = job.failedReason || (await deps.queue.getJob(event.eventId))?.failedReason;
      return { kind: "failed", reason: reason || "failed" };
    }
    if (state === "completed") return { kind: "completed", returnvalue: job.returnvalue };
    return { kind: "same" };
  }
  const was = fingerprintFromRecord(await deps.readRecord(event.accountId, event.eventId));
  const diff = was && recordDifference(was, event);
  return diff ? { kind: "conflict", error: conflictError(event, diff.field, diff.was) } : { kind: "same" };
}
