import { Router, type Request } from "express";
import { CreditmeterError, LedgerQuery, UsageQuery } from "@creditmeter/shared";
import { canReadAccount } from "../../auth/permissions.js";
import { authenticate, principalOf } from "../authenticate.js";
import type { HttpDeps } from "../deps.js";
import { AccountParams, SessionParams, parseInput } from "../validate.js";

/** 403 unless the caller may read this account: its own user, or ops. */
function assertCanRead(req: Request, accountId: string): void {
  const principal = principalOf(req);
  if (!canReadAccount(principal, accountId)) {
    throw new CreditmeterError("forbidden", `forbidden: role ${principal.role} may not read account ${accountId}`);
  }
}

/** A window that ends before it starts is a mistake to report, not an empty answer. */
function parseUsageQuery(query: unknown): UsageQuery {
  const parsed = parseInput(UsageQuery, query);
  if (parsed.from !== undefined && parsed.to !== undefined && Date.parse(parsed.to) <= Date.parse(parsed.from)) {
    throw new CreditmeterError("invalid_input", "invalid_input: to: must be after from", "to");
  }
  return parsed;
}

/** Balance, session, usage and audit-trail reads (CONTRACT §4). */
export function readsRouter(deps: HttpDeps): Router {
  const { ledger } = deps;
  const auth = authenticate(deps.verifier);
  const router = Router();

  router.get("/:accountId/balance", auth, async function readBalance(req, res) {
    const { accountId } = parseInput(AccountParams, req.params);
    assertCanRead(req, accountId);
    res.json(await ledger.balance(accountId));
  });

  router.get("/:accountId/sessions/:sessionId", auth, async function readSession(req, res) {
    const { accountId, sessionId } = parseInput(SessionParams, req.params);
    assertCanRead(req, accountId);
    res.json(await ledger.session(accountId, sessionId));
  });

  router.get("/:accountId/usage", auth, async function readUsage(req, res) {
    const { accountId } = parseInput(AccountParams, req.params);
    assertCanRead(req, accountId);
    res.json(await ledger.usage(accountId, parseUsageQuery(req.query)));
  });

  router.get("/:accountId/ledger", auth, async function readLedger(req, res) {
    const { accountId } = parseInput(AccountParams, req.params);
    assertCanRead(req, accountId);
    res.json(await ledger.ledgerPage(accountId, parseInput(LedgerQuery, req.query)));
  });

  return router;
}
