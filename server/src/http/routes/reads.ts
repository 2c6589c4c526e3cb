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

const DAY_MS = 86_400_000;
/** The window the ledger reads when `from` is absent (server/src/ledger/reads.ts). */
const DEFAULT_USAGE_DAYS = 30;

/**
 * A window that ends before it starts is a mistake to report, not an empty answer; one longer
 * than `maxDays` is refused before the ledger scans it: a usage read walks every entry of its
 * window, and an unbounded one would let any user make Redis read years of history per request.
 */
function parseUsageQuery(query: unknown, maxDays: number, now = Date.now()): UsageQuery {
  const parsed = parseInput(UsageQuery, query);
  const to = parsed.to === undefined ? now : Date.parse(parsed.to);
  const from = parsed.from === undefined ? to - DEFAULT_USAGE_DAYS * DAY_MS : Date.parse(parsed.from);
  if (parsed.from !== undefined && parsed.to !== undefined && to <= from) {
    throw new CreditmeterError("invalid_input", "invalid_input: to: must be after from", "to");
  }
  if (to - from > maxDays * DAY_MS) {
    throw new CreditmeterError("invalid_input", `invalid_input: from: the window may span at most ${maxDays} days`, "from");
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
    res.json(await ledger.usage(accountId, parseUsageQuery(req.query, deps.config.usageMaxDays)));
  });

  router.get("/:accountId/ledger", auth, async function readLedger(req, res) {
    const { accountId } = parseInput(AccountParams, req.params);
    assertCanRead(req, accountId);
    res.json(await ledger.ledgerPage(accountId, parseInput(LedgerQuery, req.query)));
  });

  return router;
}
