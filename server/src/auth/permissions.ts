import type { Principal } from "./principal.js";

// One place decides who may do what, so REST and Socket.IO cannot drift apart.
// Workers only post events: a compromised worker token must not read anyone's usage.

/** A user reads only its own account; ops reads every account; workers read none. */
export function canReadAccount(principal: Principal, accountId: string): boolean {
  if (principal.role === "ops") return true;
  return principal.role === "user" && principal.accountId === accountId;
}

/** Only ops may create accounts, start cycles, add packs and adjust credits. */
export function canOperate(principal: Principal): boolean {
  return principal.role === "ops";
}

/** Workers post stage events; ops may too (replays, manual corrections). */
export function canPostEvents(principal: Principal): boolean {
  return principal.role === "worker" || principal.role === "ops";
}

/** Where an event stands: the workers and ops that post events, and the account's own user. */
export function canReadEventStatus(principal: Principal, accountId: string): boolean {
  return canPostEvents(principal) || canReadAccount(principal, accountId);
}
