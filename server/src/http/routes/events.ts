import { Router, type Request } from "express";
import {
  CreditmeterError,
  EventBatchBody,
  EventWaitQuery,
  parseStageEvent,
  type EventBatchAnswer,
  type StageEvent,
} from "@creditmeter/shared";
import { canPostEvents, inScope } from "../../auth/permissions.js";
import type { Principal } from "../../auth/principal.js";
import { authenticate, principalOf, requirePrincipal } from "../authenticate.js";
import type { HttpDeps } from "../deps.js";
import { errorBody } from "../errors.js";
import { jsonBody, parseBody, parseInput, requireJsonObject } from "../validate.js";

/** 403 for an event of an account an account-scoped API key does not cover. */
function assertInScope(principal: Principal, event: StageEvent): void {
  if (!inScope(principal, event.accountId)) {
    throw new CreditmeterError("forbidden", `forbidden: this API key may post events of account ${principal.accountScope ?? ""} only`, "accountId");
  }
}

/** The access log's id of the request (pino-http's `req.id`), to be carried to the job's log lines. */
function requestIdOf(req: Request): string | undefined {
  const id: unknown = req.id;
  return typeof id === "string" ? id : undefined;
}

/**
 * POST /v1/events (and ?wait for the decision) and POST /v1/events/batch: the queue's event over
 * HTTP for workers that do not speak BullMQ. Validated here with the same rules as the consumer,
 * so a bad event is a 400 (or a `rejected` entry) and never queued.
 */
export function eventsRouter(deps: HttpDeps): Router {
  const { config } = deps;
  const router = Router();
  const checks = () => ({ book: config.priceBook, now: Date.now(), retentionMs: config.idempotencyRetentionSeconds * 1000 });
  const mayPost = [authenticate(deps.verifier), requirePrincipal(canPostEvents, "post events")];

  router.post("/events", ...mayPost, jsonBody(config.maxBodyBytes, "invalid_event"), async function acceptEvent(req: Request, res) {
    const { wait } = parseInput(EventWaitQuery, req.query);
    const event = parseStageEvent(requireJsonObject(req.body, "invalid_event"), checks());
    assertInScope(principalOf(req), event);
    if (!deps.events) {
      await deps.enqueueEvent(event, requestIdOf(req));
      res.status(202).json({ eventId: event.eventId });
      return;
    }
    const outcome = await deps.events.submit(event, wait, requestIdOf(req));
    if (outcome.state === "failed") throw outcome.error;
    if (outcome.state === "applied") res.status(200).json({ eventId: event.eventId, result: outcome.result });
    else res.status(202).json({ eventId: event.eventId });
  });

  const intake = deps.events;
  if (!intake) return router;
  router.post("/events/batch", ...mayPost, jsonBody(config.maxBatchBodyBytes), async function acceptBatch(req, res) {
    const { events } = parseBody(EventBatchBody, req.body);
    const valid: { event: StageEvent; index: number }[] = [];
    const answer: EventBatchAnswer = { accepted: [], rejected: [] };
    events.forEach((raw, index) => {
      try {
        const event = parseStageEvent(raw, checks());
        assertInScope(principalOf(req), event);
        valid.push({ event, index });
      } catch (err) {
        if (!(err instanceof CreditmeterError)) throw err;
        answer.rejected.push({ index, error: errorBody(err).error });
      }
    });
    // Each queued eventId is listed once: a repeat of the same event in the batch is not queued
    // again; a reused eventId with another body (or one whose job failed) is rejected.
    const outcomes = await intake.enqueueMany(
      valid.map((v) => v.event),
      requestIdOf(req),
    );
    valid.forEach(({ event, index }, i) => {
      const outcome = outcomes[i];
      if (outcome instanceof CreditmeterError) answer.rejected.push({ index, error: errorBody(outcome).error });
      else if (outcome === "queued") answer.accepted.push(event.eventId);
    });
    answer.rejected.sort((a, b) => a.index - b.index);
    res.status(202).json(answer);
  });

  return router;
}
