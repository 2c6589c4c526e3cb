// The v1.1 event routes over HTTP (CONTRACT §4): decisions, batches and where an event stands.
import { z } from "zod";
import { AccountId, EventId } from "./ids.js";
import { ErrorBody, EventResult } from "./api.js";

/** Most events one POST /v1/events/batch may carry. */
export const MAX_BATCH_EVENTS = 500;

/** POST /v1/events/batch body: each event is checked on its own, so one bad event rejects only itself. */
export const EventBatchBody = z.strictObject({ events: z.array(z.unknown()).min(1).max(MAX_BATCH_EVENTS) });
export type EventBatchBody = z.infer<typeof EventBatchBody>;

/** POST /v1/events/batch answer: the queued eventIds and the refused events by index. */
export const EventBatchAnswer = z.object({
  accepted: z.array(EventId),
  rejected: z.array(z.object({ index: z.number().int().nonnegative(), error: ErrorBody.shape.error })),
});
export type EventBatchAnswer = z.infer<typeof EventBatchAnswer>;

/** POST /v1/events?wait: how long to wait for the decision (0 or absent: answer once queued). */
export const EventWaitQuery = z.strictObject({ wait: z.coerce.number().int().min(0).max(10_000).default(0) });

/** POST /v1/events?wait answer when the event was applied within the wait. */
export const EventDecided = z.object({ eventId: EventId, result: EventResult });
export type EventDecided = z.infer<typeof EventDecided>;

export const EVENT_STATES = ["queued", "applied", "failed", "unknown"] as const;
export const EventState = z.enum(EVENT_STATES);
export type EventState = z.infer<typeof EventState>;

/** GET /v1/accounts/:accountId/events/:eventId */
export const EventStatus = z.object({
  eventId: EventId,
  accountId: AccountId,
  state: EventState,
  result: EventResult.nullable(),
  failedReason: z.string().nullable(),
});
export type EventStatus = z.infer<typeof EventStatus>;
