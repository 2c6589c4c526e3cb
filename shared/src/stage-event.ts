import { z } from "zod";
import { AccountId, ActionId, EventId, IsoTime, SessionId, StepId, TrailText } from "./ids.js";
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
  model: TrailText.min(1).max(64).optional(),
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

/** What a quantity field is wrong about; `field` is the event's (or quote item's) own field name. */
export interface QuantityProblem {
  field: "model" | "scenes" | "seconds";
  message: string;
}

/** Where quantities are checked: a stage event of that type, or a quote item (priced like a `stage.completed`). */
export type QuantityUse = StageEventType | "quote";

/**
 * The rules on `model`, `scenes` and `seconds` that depend on the action (fields that do not apply,
 * fields a priced use needs). Shared by stage events and quote items (CONTRACT §10), so that a
 * quote refuses exactly what the ledger would.
 */
export function quantityProblem(
  book: PriceBook,
  q: {
    action: StageEvent["action"];
    model?: string | undefined;
    scenes?: number | undefined;
    seconds?: number | undefined;
  },
  use: QuantityUse,
): QuantityProblem | undefined {
  const entry = book.actions[q.action];
  const priced = use === "stage.started" || use === "stage.completed" || use === "quote";
  if (q.model !== undefined && !entry.models)
    return { field: "model", message: `does not apply to action ${q.action}` };
  if (q.scenes !== undefined && entry.unit !== "scene")
    return { field: "scenes", message: `does not apply to action ${q.action}` };
  if (q.seconds !== undefined && entry.unit !== "second")
    return { field: "seconds", message: `does not apply to action ${q.action}` };
  if (entry.models && priced) {
    if (q.model === undefined)
      return { field: "model", message: `required on ${use === "quote" ? "a quote item" : use} of ${q.action}` };
    if (!Object.hasOwn(entry.models, q.model)) return { field: "model", message: `unknown model "${q.model}"` };
  }
  if (entry.unit === "second" && q.seconds === undefined) {
    if (use === "quote")
      return { field: "seconds", message: `required on a quote item of ${q.action} (the seconds to price)` };
    if (use === "stage.completed")
      return { field: "seconds", message: "required on stage.completed (the actual seconds)" };
    if (use === "stage.started" && !entry.minimumReservation) {
      return { field: "seconds", message: `required on stage.started of ${q.action} (the estimate)` };
    }
  }
  return undefined;
}

/** Rules that depend on the action's kind and the event type (fields that do not apply). */
function checkApplicability(e: StageEvent, book: PriceBook): CreditmeterError | undefined {
  if (e.progress !== undefined && e.type !== "stage.progress")
    return invalid("progress", "applies to stage.progress only");
  if (e.progress === undefined && e.type === "stage.progress") return invalid("progress", "required on stage.progress");
  if (e.reason !== undefined && e.type !== "stage.failed") return invalid("reason", "applies to stage.failed only");
  const problem = quantityProblem(book, e, e.type);
  return problem ? invalid(problem.field, problem.message) : undefined;
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
