import { Router, type RequestHandler } from "express";
import type { z } from "zod";
import { AdjustmentBody, CycleBody, PackBody, PutAccountBody, type Balance } from "@creditmeter/shared";
import { canOperate } from "../../auth/permissions.js";
import type { LedgerOutcome } from "../../ledger/outcome.js";
import type { Principal } from "../../auth/principal.js";
import { authenticate, principalOf, requirePrincipal } from "../authenticate.js";
import type { HttpDeps } from "../deps.js";
import { AccountParams, jsonBody, parseBody, parseInput } from "../validate.js";

type OpsWrite<B> = (accountId: string, body: B, actor: string) => Promise<LedgerOutcome & { balance: Balance }>;

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

/** Validates the path and body, applies one ledger write, publishes it, answers the balance. */
function opsWrite<S extends z.ZodType>(deps: HttpDeps, schema: S, write: OpsWrite<z.output<S>>): RequestHandler {
  return async function applyOpsWrite(req, res) {
    const { accountId } = parseInput(AccountParams, req.params);
    const body = parseBody(schema, req.body);
    const outcome = await write(accountId, body, actorOf(principalOf(req)));
    publishSafely(deps, outcome);
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
    opsWrite(deps, CycleBody, (id, body, actor) => ledger.startCycle(id, body, actor)),
  );
  router.post(
    "/:accountId/packs",
    ...guard,
    opsWrite(deps, PackBody, (id, body, actor) => ledger.addPack(id, body, actor)),
  );
  router.post(
    "/:accountId/adjustments",
    ...guard,
    opsWrite(deps, AdjustmentBody, (id, body, actor) => ledger.adjust(id, body, actor)),
  );
  return router;
}
