import { Router } from "express";
import { CreditmeterError, QuoteBody, parseItemsBody, quoteItems, type QuoteAnswer } from "@creditmeter/shared";
import { canQuoteFor } from "../../auth/permissions.js";
import { authenticate, principalOf } from "../authenticate.js";
import type { HttpDeps } from "../deps.js";
import { jsonBody, requireJsonObject } from "../validate.js";

/**
 * POST /v1/quote (CONTRACT §10): what items would be charged, priced by the same pure functions
 * the ledger's events are (shared quoteItems → quoteCharge). Reads the account's plan and
 * available credits when one is named; changes nothing in the ledger.
 */
export function quoteRouter(deps: HttpDeps): Router {
  const router = Router();
  router.post(
    "/quote",
    authenticate(deps.verifier),
    jsonBody(deps.config.maxBodyBytes),
    async function quote(req, res) {
      const book = deps.config.priceBook;
      const body = parseItemsBody(QuoteBody, requireJsonObject(req.body), book);
      const principal = principalOf(req);
      if (body.accountId !== undefined && !canQuoteFor(principal, body.accountId)) {
        throw new CreditmeterError(
          "forbidden",
          `forbidden: role ${principal.role} may not quote for account ${body.accountId}`,
        );
      }
      const balance = body.accountId === undefined ? null : await deps.ledger.balance(body.accountId);
      const plan = balance?.plan ?? body.plan ?? "free";
      const priced = quoteItems(book, body.items, plan);
      const answer: QuoteAnswer = {
        ...priced,
        plan,
        available: balance ? balance.available : null,
        shortfall: balance ? Math.max(0, priced.total - balance.available) : null,
        priceBookVersion: book.version,
      };
      res.json(answer);
    },
  );
  return router;
}
