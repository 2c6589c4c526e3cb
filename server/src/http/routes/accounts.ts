import { Router, type RequestHandler } from "express";
import type { z } from "zod";
import { AdjustmentBody, CycleBody, PackBody, PutAccountBody, type Balance } from "@creditmeter/shared";
import { canOperate } from "../../auth/permissions.js";
import type { LedgerOutcome } from "../../ledger/outcome.js";
import type { Principal } from "../../auth/principal.js";
import { authenticate, principalOf, requirePrincipal } from "../authenticate.js";
import type { HttpDeps } from "../deps.js";
import { settleWebhooks } from "../../webhooks/settle.js";
import { AccountParams, jsonBody, parseBody, parseInput } from "../validate.js";

type OpsWrite<B> = (accountId: string, body: B, actor: string) => Promise<LedgerOutcome & { balance: Balance }>;
/** The id a write is idempotent on (cycleId, packId, adjustmentId; none for PUT account). */
type IdOf<B> = (body: B) => string;

/**
 * The ledger write has committed by the time we publish: a failed push must not turn the
 * answer into an error (the client would retry a write that happened), so it is only logged.
 */
export function publishSafely(deps: HttpDeps, outcome: LedgerOutcome): void {
  try {
    deps.publisher.publish(outcome);
  } catch (err) {
    deps.logger?.error({ err, accountId: outcome.accountId }, "publishing a ledger change failed");
  }
}

/** Who a grant's ledger entry names (CONTRACT §3 v1.1): the API key's id, else the token's `sub`. */
function actorOf(principal: Principal): string {
  return principal.keyId ?? principal.accountId;
}

/**
 * Validates the path and body, applies one ledger write, publishes it, queues the webhooks it
 * raised (answering only once they are queued: docs/webhooks.md "The gap"), answers the balance.
 */
function opsWrite<S extends z.ZodType>(
  deps: HttpDeps,
  schema: S,
  write: OpsWrite<z.output<S>>,
  idOf?: IdOf<z.output<S>>,
): RequestHandler {
  return async function applyOpsWrite(req, res) {
    const { accountId } = parseInput(AccountParams, req.params);
    const body = parseBody(schema, req.body);
    const outcome = await write(accountId, body, actorOf(principalOf(req)));
    if (idOf) deps.afterLedger?.(idOf(body));
    publishSafely(deps, outcome);
    await settleWebhooks(deps.outbox, outcome);
    res.status(200).json(outcome.balance);
  };
}

/** The ops API (CONTRACT §3): accounts, cycles, packs and adjustments; role `ops` only. */
export function accountsRouter(deps: HttpDeps): Router {
  const { ledger } = deps;
  const guard = [
    authenticate(deps.verifier),
    requirePrincipal(canOperate, "call the ops API"),
    jsonBody(deps.config.maxBodyBytes),
  ];
  const router = Router();
  router.put(
    "/:accountId",
    ...guard,
    opsWrite(deps, PutAccountBody, (id, body) => ledger.putAccount(id, body)),
  );
  router.post(
    "/:accountId/cycles",
    ...guard,
    opsWrite(
      deps,
      CycleBody,
      (id, body, actor) => ledger.startCycle(id, body, actor),
      (b) => b.cycleId,
    ),
  );
  router.post(
    "/:accountId/packs",
    ...guard,
    opsWrite(
      deps,
      PackBody,
      (id, body, actor) => ledger.addPack(id, body, actor),
      (b) => b.packId,
    ),
  );
  router.post(
    "/:accountId/adjustments",
    ...guard,
    opsWrite(
      deps,
      AdjustmentBody,
      (id, body, actor) => ledger.adjust(id, body, actor),
      (b) => b.adjustmentId,
    ),
  );
  return router;
}
