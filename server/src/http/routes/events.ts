import { Router } from "express";
import { parseStageEvent } from "@creditmeter/shared";
import { canPostEvents } from "../../auth/permissions.js";
import { authenticate, requirePrincipal } from "../authenticate.js";
import type { HttpDeps } from "../deps.js";
import { jsonBody, requireJsonObject } from "../validate.js";

/**
 * POST /v1/events: the queue's event over HTTP for workers that do not speak BullMQ.
 * Validated here with the same rules as the consumer, so a bad event is a 400 and never queued.
 */
export function eventsRouter(deps: HttpDeps): Router {
  const { config } = deps;
  const router = Router();
  router.post(
    "/events",
    authenticate(deps.verifier),
    requirePrincipal(canPostEvents, "post events"),
    jsonBody(config.maxBodyBytes, "invalid_event"),
    async function acceptEvent(req, res) {
      const event = parseStageEvent(requireJsonObject(req.body, "invalid_event"), {
        book: config.priceBook,
        now: Date.now(),
        retentionMs: config.idempotencyRetentionSeconds * 1000,
      });
      await deps.enqueueEvent(event);
      res.status(202).json({ eventId: event.eventId });
    },
  );
  return router;
}
