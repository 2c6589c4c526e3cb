import { Router } from "express";
import { CreditmeterError, PlanBody, parseItemsBody, quoteOnEveryPlan } from "@creditmeter/shared";
import { canPlanSession } from "../../auth/permissions.js";
import { authenticate, principalOf } from "../authenticate.js";
import type { HttpDeps } from "../deps.js";
import { SessionParams, jsonBody, parseInput, requireJsonObject } from "../validate.js";
import { settleWebhooks } from "../../webhooks/settle.js";
import { publishSafely } from "./accounts.js";

/**
 * PUT /v1/accounts/:accountId/sessions/:sessionId/plan (CONTRACT §10): the work a session expects
 * to do, stored as its total on every plan (so the forecast follows the account's plan as the
 * ledger would charge it; `items: []` removes the plan). Answers the session snapshot with its
 * forecast and pushes it as a session change (seq + 1), once the webhooks of any alert its
 * time-due work raised are queued.
 */
export function planRouter(deps: HttpDeps): Router {
  const router = Router();
  router.put(
    "/:accountId/sessions/:sessionId/plan",
    authenticate(deps.verifier),
    jsonBody(deps.config.maxBodyBytes),
    async function setPlan(req, res) {
      const { accountId, sessionId } = parseInput(SessionParams, req.params);
      const principal = principalOf(req);
      if (!canPlanSession(principal, accountId)) {
        throw new CreditmeterError(
          "forbidden",
          `forbidden: role ${principal.role} may not plan sessions of account ${accountId}`,
        );
      }
      const body = parseItemsBody(PlanBody, requireJsonObject(req.body), deps.config.priceBook);
      const totals = body.items.length === 0 ? null : quoteOnEveryPlan(deps.config.priceBook, body.items);
      const outcome = await deps.ledger.setPlan(accountId, sessionId, totals);
      deps.afterLedger?.(`plan:${sessionId}`);
      publishSafely(deps, outcome);
      // An alert of the time-due work it did is kept in the account until queued: answered once it
      // is (503 on failure; the retry owes it again, docs/webhooks.md "The gap").
      await settleWebhooks(deps.outbox, outcome);
      res.status(200).json(outcome.session);
    },
  );
  return router;
}
