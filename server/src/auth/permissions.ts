import type { Principal } from "./principal.js";

// One place decides who may do what, so REST and Socket.IO cannot drift apart.
// Workers only post events: a compromised worker token must not read anyone's usage.

/** Whether an account-scoped API key's scope (if any) covers `accountId`. */
export function inScope(principal: Principal, accountId: string): boolean {
  return principal.accountScope === undefined || principal.accountScope === accountId;
}

/** A user reads only its own account; ops reads every account (a scoped key: its own); workers read none. */
export function canReadAccount(principal: Principal, accountId: string): boolean {
  if (!inScope(principal, accountId)) return false;
  if (principal.role === "ops") return true;
  return principal.role === "user" && principal.accountId === accountId;
}

/** Only ops may create accounts, start cycles, add packs and adjust credits. */
export function canOperate(principal: Principal): boolean {
  return principal.role === "ops";
}

/**
 * What spans every account (API keys, failed jobs, metrics, the /ops stream): ops, and not a key
 * scoped to one account, which must not reach beyond it.
 */
export function canOperateEverything(principal: Principal): boolean {
  return principal.role === "ops" && principal.accountScope === undefined;
}

/** Workers post stage events; ops may too (replays, manual corrections). */
export function canPostEvents(principal: Principal): boolean {
  return principal.role === "worker" || principal.role === "ops";
}

/** Where an event stands: the workers and ops that post events, and the account's own user. */
export function canReadEventStatus(principal: Principal, accountId: string): boolean {
  return inScope(principal, accountId) && (canPostEvents(principal) || canReadAccount(principal, accountId));
}

/** A quote may be asked by any role; one that names an account, only by its own user, ops or a worker (CONTRACT §10). */
export function canQuoteFor(principal: Principal, accountId: string): boolean {
  return inScope(principal, accountId) && (principal.role !== "user" || principal.accountId === accountId);
}

/** A session's plan is set by the workers that run it, ops, or the account's own user (CONTRACT §10). */
export function canPlanSession(principal: Principal, accountId: string): boolean {
  return (
    inScope(principal, accountId) &&
    (canPostEvents(principal) || (principal.role === "user" && principal.accountId === accountId))
  );
}

/**
 * A session's budget (CONTRACT §10) is the person's to set: the account's own user, or ops (a
 * scoped key: its own account). Workers never: a worker must not lift the limit it runs under.
 */
export function canSetBudget(principal: Principal, accountId: string): boolean {
  return canReadAccount(principal, accountId);
}
