import type { Request, RequestHandler } from "express";
import { CreditmeterError } from "@creditmeter/shared";
import type { AuthVerifier, Principal } from "../auth/principal.js";

// Principals live beside the request, not in `res.locals` (typed `any`), so reads stay typed.
const principals = new WeakMap<Request, Principal>();

const BEARER = /^Bearer[ ]+([A-Za-z0-9._~+/-]+=*)[ ]*$/i;

/** The verified caller of a request that went through `authenticate`. */
export function principalOf(req: Request): Principal {
  const principal = principals.get(req);
  if (!principal) throw new CreditmeterError("internal", "internal: route reached without authentication");
  return principal;
}

/** Requires `Authorization: Bearer <jwt or API key>` and records the verified principal; 401 otherwise. */
export function authenticate(verifier: AuthVerifier): RequestHandler {
  return async function authenticateBearer(req, _res, next) {
    const header = req.get("authorization");
    if (header === undefined) throw new CreditmeterError("unauthorized", "unauthorized: missing bearer token");
    const match = BEARER.exec(header);
    const token = match?.[1];
    if (token === undefined) throw new CreditmeterError("unauthorized", "unauthorized: expected Authorization: Bearer <token>");
    const principal = await verifier.verify(token);
    // An account-scoped API key reaches no other account's path, whatever the route.
    const accountId: unknown = req.params.accountId;
    if (principal.accountScope !== undefined && typeof accountId === "string" && accountId !== principal.accountScope) {
      throw new CreditmeterError("forbidden", `forbidden: this API key may act on account ${principal.accountScope} only`);
    }
    principals.set(req, principal);
    next();
  };
}

/** 403 unless the caller passes `allowed`; `what` names the refused action in the message. */
export function requirePrincipal(allowed: (principal: Principal) => boolean, what: string): RequestHandler {
  return function checkPrincipal(req, _res, next) {
    const principal = principalOf(req);
    if (!allowed(principal)) {
      throw new CreditmeterError("forbidden", `forbidden: role ${principal.role} may not ${what}`);
    }
    next();
  };
}
