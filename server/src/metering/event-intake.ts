import type { Job, JobsOptions, Queue } from "bullmq";
import { CreditmeterError, EventResult, type ErrorCode, type EventStatus, type StageEvent } from "@creditmeter/shared";
import { resultFromRecord } from "../ledger/event-record.js";
import type { DecisionWaiters, Watch } from "./decision-waiters.js";
import { withRequestId } from "./job-request-id.js";

/** What POST /v1/events?wait learnt within the wait. */
export type Submitted =
  | { state: "applied"; result: EventResult }
  | { state: "failed"; error: CreditmeterError }
  | { state: "queued" };

/** The events routes' view of the queue and the ledger's idempotency records. */
export interface EventIntake {
  /**
   * Queues one event (job name = type, job id = eventId) and waits up to `waitMs` for its decision;
   * `requestId` (the HTTP request's) rides in the job's options for the consumer's log lines.
   */
  submit(event: StageEvent, waitMs: number, requestId?: string): Promise<Submitted>;
  /** Queues validated events in one addBulk, each job carrying `requestId`. */
  enqueueMany(events: StageEvent[], requestId?: string): Promise<void>;
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

function accountOf(job: Job): unknown {
  const data: unknown = job.data;
  return typeof data === "object" && data !== null ? Reflect.get(data, "accountId") : undefined;
}

/** Builds the intake on a BullMQ queue (the one workers use) and the ledger's records. */
export function createEventIntake(deps: IntakeDeps): EventIntake {
  const { queue, waiters } = deps;

  async function status(accountId: string, eventId: string): Promise<EventStatus> {
    const [job, record] = await Promise.all([queue.getJob(eventId), deps.readRecord(accountId, eventId)]);
    const base = { eventId, accountId, result: null, failedReason: null };
    // Job ids are queue-wide: another account's job of that id is none of this account's business.
    const own = job && accountOf(job) === accountId ? job : undefined;
    const state = own ? await own.getState() : "unknown";
    // A failed job outranks the record: it is the later delivery (a completed job is removed),
    // for instance a reused eventId refused with `conflict`.
    if (own && state === "failed") {
      // The job read may predate its failure (state is read after it): read it again for the reason.
      const reason = own.failedReason || (await queue.getJob(eventId))?.failedReason;
      return { ...base, state: "failed", failedReason: reason || "failed" };
    }
    const result = resultFromRecord(record);
    if (result) return { ...base, state: "applied", result };
    if (own && state === "completed") {
      const parsed = EventResult.loose().safeParse(own.returnvalue);
      if (parsed.success) return { ...base, state: "applied", result: parsed.data };
    }
    if (own && QUEUED_STATES.has(state)) return { ...base, state: "queued" };
    return { ...base, state: "unknown" };
  }

  async function decide(event: StageEvent, watch: Watch): Promise<Submitted> {
    for (;;) {
      const heard = await watch.next();
      if (heard.kind === "completed") {
        const parsed = EventResult.loose().safeParse(heard.returnvalue);
        if (!parsed.success) throw new CreditmeterError("internal", "internal: the processor returned an unreadable result");
        return { state: "applied", result: parsed.data };
      }
      if (heard.kind === "failed") return { state: "failed", error: errorOfReason(heard.reason) };
      if (heard.kind === "timeout") return { state: "queued" };
      // The job id existed: one look (not a poll) tells a failed job, which will not run again,
      // from one still queued, whose completion is still to come.
      const job = await queue.getJob(event.eventId);
      if (job && accountOf(job) !== event.accountId) {
        const msg = "conflict: eventId: already used by an event of another account (job ids are queue-wide)";
        return { state: "failed", error: new CreditmeterError("conflict", msg, "eventId") };
      }
      if (job && (await job.getState()) === "failed") return { state: "failed", error: errorOfReason(job.failedReason || "failed") };
    }
  }

  return {
    async submit(event, waitMs, requestId) {
      const opts = withRequestId({ ...deps.jobOptions, jobId: event.eventId }, requestId);
      const add = () => queue.add(event.type, event, opts);
      if (waitMs <= 0) {
        await add();
        return { state: "queued" };
      }
      // Listen before adding: a fast consumer may finish the job before add() even returns.
      const watch = waiters.watch(event.eventId, waitMs);
      try {
        await add();
        return await decide(event, watch);
      } finally {
        watch.cancel();
      }
    },
    async enqueueMany(events, requestId) {
      if (events.length === 0) return;
      await queue.addBulk(events.map((e) => ({ name: e.type, data: e, opts: withRequestId({ ...deps.jobOptions, jobId: e.eventId }, requestId) })));
    },
    status,
  };
}
