import { Router } from "express";
import { BudgetBody, CreditmeterError } from "@creditmeter/shared";
import { canSetBudget } from "../../auth/permissions.js";
import { authenticate, principalOf } from "../authenticate.js";
import type { HttpDeps } from "../deps.js";
import { SessionParams, jsonBody, parseBody, parseInput } from "../validate.js";
import { publishSafely } from "./accounts.js";
import { settleWebhooks } from "../../webhooks/settle.js";

/**
 * PUT /v1/accounts/:accountId/sessions/:sessionId/budget (CONTRACT §10): the account's user or
 * ops sets (`credits`) or removes (`null`) the session's budget; answers the session snapshot.
 * The change is pushed to the session's watchers like any other (its seq grew); a budget already
 * used up answers only once its `session.budget_reached` is queued (webhooks/settle.ts).
 */
export function sessionBudgetRouter(deps: HttpDeps): Router {
  const router = Router();
  router.put(
    "/:accountId/sessions/:sessionId/budget",
    authenticate(deps.verifier),
    jsonBody(deps.config.maxBodyBytes),
    async function putBudget(req, res) {
      const { accountId, sessionId } = parseInput(SessionParams, req.params);
      const principal = principalOf(req);
      if (!canSetBudget(principal, accountId)) {
        throw new CreditmeterError(
          "forbidden",
          `forbidden: role ${principal.role} may not set budgets of account ${accountId}`,
        );
      }
      const { credits } = parseBody(BudgetBody, req.body);
      const outcome = await deps.ledger.setBudget(accountId, sessionId, credits);
      deps.afterLedger?.(sessionId);
      publishSafely(deps, outcome);
      // Answered once its webhooks are queued; a failure is 503 and the retried PUT owes them again.
      await settleWebhooks(deps.outbox, outcome);
      res.status(200).json(outcome.session);
    },
  );
  return router;
}
