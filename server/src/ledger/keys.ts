/**
 * The ledger room's Redis keys. Every key of one account carries the `{accountId}` hash tag, so
 * an account lives in one Redis Cluster slot and each script touches one slot. The namespace
 * (CREDITMETER_KEY_PREFIX) lets the ledger share a Redis with other tenants or tests.
 */
export interface AccountKeys {
  accountId: string;
  /** The prefix every derived key starts with; scripts build session keys from it. */
  prefix: string;
  account: string;
  holds: string;
  log: string;
  /** Ms below which the trail may have been trimmed, its entries being in the history archive (lua/trim-log-2.lua). */
  trimmed: string;
  /** Pre-v1.1 grant idempotency (one hash per account, read only now: lua/lib/grants.lua). */
  grants: string;
  /** A grant's idempotency record (body and first answer), kept for the ledger retention. */
  grant(kind: "cycle" | "pack" | "adjustment", id: string): string;
  /** Where one step stood in the layout before the idempotency generations (lua/lib/idem.lua): read only, until expired. */
  step(sessionId: string, stepId: string): string;
  /** An eventId's idempotency record in the layout before the generations (lua/lib/idem.lua): read only, until expired. */
  event(eventId: string): string;
  /** The account's idempotency generation `g` (lua/lib/idem.lua): its records and step states of 15 days. */
  idempotency(generation: number): string;
  session(sessionId: string): string;
  /** The credits charged per minute over the last few minutes (lua/lib/burn.lua): the forecast's burn rate. */
  burn: string;
  /** The account's planned sessions, newest plan last (lua/lib/plans.lua): re-pushed when its credits move. */
  plans: string;
}

/** The keys of one account under a namespace. */
export function accountKeys(namespace: string, accountId: string): AccountKeys {
  const prefix = `${namespace}:{${accountId}}:`;
  return {
    accountId,
    prefix,
    account: `${prefix}acct`,
    holds: `${prefix}holds`,
    log: `${prefix}log`,
    trimmed: `${prefix}trimmed`,
    grants: `${prefix}grants`,
    grant: (kind, id) => `${prefix}grant:${kind}:${id}`,
    step: (sessionId, stepId) => `${prefix}st:${sessionId}/${stepId}`,
    event: (eventId) => `${prefix}evt:${eventId}`,
    idempotency: (generation) => `${prefix}ids:${generation}`,
    session: (sessionId) => `${prefix}sess:${sessionId}`,
    burn: `${prefix}burn`,
    plans: `${prefix}plans`,
  };
}

/** The index of accounts with something due (hold expiry, cycle end), scored by when. */
export function deadlinesKey(namespace: string): string {
  return `${namespace}:deadlines`;
}
