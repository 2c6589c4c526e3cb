import { z } from "zod";
import { AccountId, ActionId, EventId, IsoTime, SessionId, StepId } from "./ids.js";
import { CreditmeterError, fromZodError } from "./errors.js";
import type { PriceBook } from "./price-book.js";

export const STAGE_EVENT_TYPES = ["stage.started", "stage.progress", "stage.completed", "stage.failed"] as const;
export const StageEventType = z.enum(STAGE_EVENT_TYPES);
export type StageEventType = z.infer<typeof StageEventType>;

/** A stage event as workers queue it (CONTRACT §2). Structure only; see parseStageEvent. */
export const StageEventSchema = z.strictObject({
  v: z.literal(1),
  eventId: EventId,
  type: StageEventType,
  accountId: AccountId,
  sessionId: SessionId,
  stepId: StepId,
  action: ActionId,
  occurredAt: IsoTime,
  model: z.string().min(1).max(64).optional(),
  scenes: z.number().int().min(1).max(1000).optional(),
  seconds: z.number().gt(0).lte(3600).optional(),
  progress: z.number().min(0).max(1).optional(),
  reason: z.string().max(500).optional(),
});
export type StageEvent = z.infer<typeof StageEventSchema>;

export interface EventCheckOptions {
  book: PriceBook;
  /** Milliseconds since the epoch; the clock the window is checked against. */
  now: number;
  /** How far back an event may be: the idempotency retention. */
  retentionMs: number;
  /** How far ahead of `now` an event may be (5 minutes by contract). */
  maxFutureMs?: number;
}

const FIVE_MINUTES = 5 * 60_000;

function invalid(field: string, message: string): CreditmeterError {
  return new CreditmeterError("invalid_event", `invalid_event: ${field}: ${message}`, field);
}

/** Rules that depend on the action's kind and the event type (fields that do not apply). */
function checkApplicability(e: StageEvent, book: PriceBook): CreditmeterError | undefined {
  const entry = book.actions[e.action];
  const quantityType = e.type === "stage.started" || e.type === "stage.completed";
  if (e.progress !== undefined && e.type !== "stage.progress") return invalid("progress", "applies to stage.progress only");
  if (e.progress === undefined && e.type === "stage.progress") return invalid("progress", "required on stage.progress");
  if (e.reason !== undefined && e.type !== "stage.failed") return invalid("reason", "applies to stage.failed only");
  if (e.model !== undefined && !entry.models) return invalid("model", `does not apply to action ${e.action}`);
  if (e.scenes !== undefined && entry.unit !== "scene") return invalid("scenes", `does not apply to action ${e.action}`);
  if (e.seconds !== undefined && entry.unit !== "second") return invalid("seconds", `does not apply to action ${e.action}`);
  if (entry.models && quantityType) {
    if (e.model === undefined) return invalid("model", `required on ${e.type} of ${e.action}`);
    if (!Object.hasOwn(entry.models, e.model)) return invalid("model", `unknown model "${e.model}"`);
  }
  if (entry.unit === "second" && e.seconds === undefined) {
    if (e.type === "stage.completed") return invalid("seconds", "required on stage.completed (the actual seconds)");
    if (e.type === "stage.started" && !entry.minimumReservation) {
      return invalid("seconds", `required on stage.started of ${e.action} (the estimate)`);
    }
  }
  return undefined;
}

/**
 * Parses untrusted job data into a StageEvent, or throws a CreditmeterError whose message
 * starts with `invalid_event` and names the field.
 */
export function parseStageEvent(input: unknown, opts: EventCheckOptions): StageEvent {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw invalid("(root)", "the event must be a JSON object");
  }
  const parsed = StageEventSchema.safeParse(input);
  if (!parsed.success) throw fromZodError("invalid_event", parsed.error);
  const event = parsed.data;
  const problem = checkApplicability(event, opts.book);
  if (problem) throw problem;
  const at = Date.parse(event.occurredAt);
  if (at < opts.now - opts.retentionMs) {
    throw invalid("occurredAt", "older than the idempotency retention: a redelivery could not be recognised");
  }
  if (at > opts.now + (opts.maxFutureMs ?? FIVE_MINUTES)) {
    throw invalid("occurredAt", "more than 5 minutes in the future");
  }
  return event;
}
