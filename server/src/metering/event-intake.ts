import type { JobsOptions, Queue } from "bullmq";
import { CreditmeterError, EventResult, type ErrorCode, type EventStatus, type StageEvent } from "@creditmeter/shared";
import { conflictError, fingerprintDifference, fingerprintValues } from "../ledger/event-batch.js";
import { fingerprintFromRecord, recordDifference, resultFromRecord } from "../ledger/event-record.js";
import type { DecisionWaiters, Watch } from "./decision-waiters.js";
import { withRequestId } from "./job-request-id.js";
import { accountOf, otherAccountConflict, priorOf, type Prior } from "./prior-delivery.js";

/** What POST /v1/events?wait learnt within the wait. */
export type Submitted =
  { state: "applied"; result: EventResult } | { state: "failed"; error: CreditmeterError } | { state: "queued" };

/** What became of one event of a batch. */
export type BatchOutcome = "queued" | "repeat" | CreditmeterError;

/** The events routes' view of the queue and the ledger's idempotency records. */
export interface EventIntake {
  /**
   * Queues one event (job name = type, job id = eventId) and waits up to `waitMs` for its decision;
   * `requestId` (the HTTP request's) rides in the job's options for the consumer's log lines.
   */
  submit(event: StageEvent, waitMs: number, requestId?: string): Promise<Submitted>;
  /**
   * Queues validated events in one addBulk, each job carrying `requestId`, and answers, for each,
   * "queued", "repeat" (the same event earlier in the batch: queued once) or why it was not
   * (another event holds its id).
   */
  enqueueMany(events: StageEvent[], requestId?: string): Promise<BatchOutcome[]>;
  /** Where an event of an account stands: queued, applied (with its result), failed or unknown. */
  status(accountId: string, eventId: string): Promise<EventStatus>;
}

export interface IntakeDeps {
  queue: Pick<Queue, "add" | "addBulk" | "getJob">;
  /** The ledger's idempotency record of an event (raw JSON), or null. */
  readRecord(accountId: string, eventId: string): Promise<string | null>;
  /** The process's one shared listener of the queue's completion events. */
  waiters: DecisionWaiters;
  /** Retry options of the jobs it queues (ingestJobOptions); the job id is always the eventId. */
  jobOptions?: JobsOptions;
}

const QUEUED_STATES = new Set(["waiting", "active", "delayed", "prioritized", "waiting-children"]);
const REASON_CODES: ErrorCode[] = ["unknown_account", "conflict", "invalid_event"];

/** A failed job's reason as the contract error it stands for (`unknown_account: …` → 404, `conflict: …` → 409). */
export function errorOfReason(reason: string): CreditmeterError {
  const code = REASON_CODES.find((c) => reason.startsWith(c));
  return new CreditmeterError(code ?? "internal", code ? reason : `internal: the event failed: ${reason}`);
}

/** A reused eventId refused before adding: the ledger already applied another event under it. */
function recordConflict(event: StageEvent, raw: string | null): CreditmeterError | null {
  const was = fingerprintFromRecord(raw);
  const diff = was && recordDifference(was, event);
  return diff ? conflictError(event, diff.field, diff.was) : null;
}

/** Builds the intake on a BullMQ queue (the one workers use) and the ledger's records. */
export function createEventIntake(deps: IntakeDeps): EventIntake {
  const { queue, waiters } = deps;

  async function status(accountId: string, eventId: string): Promise<EventStatus> {
    const [job, record] = await Promise.all([queue.getJob(eventId), deps.readRecord(accountId, eventId)]);
    const base = { eventId, accountId, result: null, failedReason: null };
    // Job ids are queue-wide: another account's job of that id is none of this account's business.
    const own = job && accountOf(job) === accountId ? job : undefined;
    // The record outranks the job: an applied event stays applied, even when a later delivery
    // under its id failed (a reused eventId refused with `conflict`) — a worker told "failed" would
    // send it again and be charged twice.
    const result = resultFromRecord(record);
    if (result) return { ...base, state: "applied", result };
    const state = own ? await own.getState() : "unknown";
    if (own && state === "failed") {
      // The job read may predate its failure (state is read after it): read it again for the reason.
      const reason = own.failedReason || (await queue.getJob(eventId))?.failedReason;
      return { ...base, state: "failed", failedReason: reason || "failed" };
    }
    if (own && state === "completed") {
      const parsed = EventResult.loose().safeParse(own.returnvalue);
      if (parsed.success) return { ...base, state: "applied", result: parsed.data };
    }
    if (own && QUEUED_STATES.has(state)) return { ...base, state: "queued" };
    return { ...base, state: "unknown" };
  }

  /**
   * The ledger's result for this very event when a job of it failed after the ledger applied it
   * (its webhooks could not be queued through every attempt, say): answered as applied, since a
   * worker told "failed" would send the work again under a new eventId and be charged twice.
   */
  async function appliedAfterAll(event: StageEvent): Promise<Submitted | null> {
    const raw = await deps.readRecord(event.accountId, event.eventId);
    const was = fingerprintFromRecord(raw);
    if (!was || recordDifference(was, event)) return null;
    const result = resultFromRecord(raw);
    return result ? { state: "applied", result } : null;
  }

  /** What a failed job of `event` answers: applied when the ledger holds its record, else the failure. */
  async function failedOrApplied(event: StageEvent, reason: string): Promise<Submitted> {
    return (await appliedAfterAll(event)) ?? { state: "failed", error: errorOfReason(reason) };
  }

  async function decide(event: StageEvent, watch: Watch): Promise<Submitted> {
    for (;;) {
      const heard = await watch.next();
      if (heard.kind === "completed") {
        const parsed = EventResult.loose().safeParse(heard.returnvalue);
        if (!parsed.success)
          throw new CreditmeterError("internal", "internal: the processor returned an unreadable result");
        return { state: "applied", result: parsed.data };
      }
      if (heard.kind === "failed") return failedOrApplied(event, heard.reason);
      if (heard.kind === "timeout") return { state: "queued" };
      // `duplicated`: the job id existed. submit() looked at that job after adding (priorOf): it
      // holds this very event, still to be decided, so its completion or failure is this event's.
    }
  }

  /** What submit() answers, before waiting, from what held the eventId once it was added. */
  async function settled(event: StageEvent, prior: Prior): Promise<Submitted | null> {
    if (prior.kind === "conflict") return { state: "failed", error: prior.error };
    if (prior.kind === "failed") return failedOrApplied(event, prior.reason);
    if (prior.kind === "completed") {
      const parsed = EventResult.loose().safeParse(prior.returnvalue);
      if (parsed.success) return { state: "applied", result: parsed.data };
    }
    return null;
  }

  return {
    async submit(event, waitMs, requestId) {
      // An eventId the ledger already applied with another body: refused, nothing queued.
      const refused = recordConflict(event, await deps.readRecord(event.accountId, event.eventId));
      if (refused) throw refused;
      const opts = withRequestId({ ...deps.jobOptions, jobId: event.eventId }, requestId);
      const add = () => queue.add(event.type, event, opts);
      if (waitMs <= 0) {
        await add();
        const answer = await settled(event, await priorOf(deps, event));
        if (answer?.state === "failed") throw answer.error;
        return { state: "queued" };
      }
      // Listen before adding: a fast consumer may finish the job before add() even returns.
      const watch = await waiters.watch(event.eventId, waitMs);
      try {
        await add();
        // Before waiting: a job of another event under this id must not answer for this one.
        return (await settled(event, await priorOf(deps, event))) ?? (await decide(event, watch));
      } finally {
        watch.cancel();
      }
    },
    async enqueueMany(events, requestId) {
      // A repeat of an eventId within the batch: the same event is queued once, another is a conflict.
      const first = new Map<string, StageEvent>();
      const outcomes: BatchOutcome[] = events.map((e) => {
        const seen = first.get(e.eventId);
        if (!seen) {
          first.set(e.eventId, e);
          return "queued";
        }
        if (seen.accountId !== e.accountId) return otherAccountConflict();
        const diff = fingerprintDifference(fingerprintValues(seen), fingerprintValues(e));
        return diff ? conflictError(e, diff.field, diff.was, "queued") : "repeat";
      });
      const queued = [...first.values()];
      if (queued.length === 0) return outcomes;
      await queue.addBulk(
        queued.map((e) => ({
          name: e.type,
          data: e,
          opts: withRequestId({ ...deps.jobOptions, jobId: e.eventId }, requestId),
        })),
      );
      // What BullMQ left in place of each: another event's job (not queued), or a failed one.
      const refusals = new Map<string, CreditmeterError>();
      await Promise.all(
        queued.map(async (e) => {
          const answer = await settled(e, await priorOf(deps, e));
          if (answer?.state === "failed") refusals.set(e.eventId, answer.error);
        }),
      );
      return outcomes.map((o, i) => {
        const event = events[i];
        if (o instanceof CreditmeterError || !event) return o;
        return refusals.get(event.eventId) ?? o;
      });
    },
    status,
  };
}
