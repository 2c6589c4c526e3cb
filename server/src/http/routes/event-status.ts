import { Router } from "express";
import { CreditmeterError, EventId } from "@creditmeter/shared";
import { canReadEventStatus } from "../../auth/permissions.js";
import type { EventIntake } from "../../metering/event-intake.js";
import { authenticate, principalOf } from "../authenticate.js";
import type { HttpDeps } from "../deps.js";
import { AccountParams, parseInput } from "../validate.js";

/** The path of an event (exported for the OpenAPI document). */
export const EventParams = AccountParams.extend({ eventId: EventId });

/** GET /v1/accounts/:accountId/events/:eventId: queued, applied (with its result), failed or unknown. */
export function eventStatusRouter(deps: HttpDeps, intake: EventIntake): Router {
  const router = Router();
  router.get("/:accountId/events/:eventId", authenticate(deps.verifier), async function readEventStatus(req, res) {
    const { accountId, eventId } = parseInput(EventParams, req.params);
    const principal = principalOf(req);
    if (!canReadEventStatus(principal, accountId)) {
      throw new CreditmeterError("forbidden", `forbidden: role ${principal.role} may not read events of account ${accountId}`);
    }
    res.json(await intake.status(accountId, eventId));
  });
  return router;
}
