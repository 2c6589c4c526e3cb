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

/**
 * The keys of one account under a namespace. A class, not an object literal of closures: the
 * consumer builds one per event, and methods on the prototype cost nothing per instance.
 */
class KeysOf implements AccountKeys {
  readonly prefix: string;
  readonly account: string;
  readonly holds: string;
  readonly log: string;
  readonly burn: string;

  constructor(
    namespace: string,
    readonly accountId: string,
  ) {
    this.prefix = `${namespace}:{${accountId}}:`;
    this.account = `${this.prefix}acct`;
    this.holds = `${this.prefix}holds`;
    this.log = `${this.prefix}log`;
    this.burn = `${this.prefix}burn`;
  }

  get trimmed(): string {
    return `${this.prefix}trimmed`;
  }
  get grants(): string {
    return `${this.prefix}grants`;
  }
  get plans(): string {
    return `${this.prefix}plans`;
  }
  grant(kind: "cycle" | "pack" | "adjustment", id: string): string {
    return `${this.prefix}grant:${kind}:${id}`;
  }
  step(sessionId: string, stepId: string): string {
    return `${this.prefix}st:${sessionId}/${stepId}`;
  }
  event(eventId: string): string {
    return `${this.prefix}evt:${eventId}`;
  }
  idempotency(generation: number): string {
    return `${this.prefix}ids:${generation}`;
  }
  session(sessionId: string): string {
    return `${this.prefix}sess:${sessionId}`;
  }
}

/** The keys of one account under a namespace. */
export function accountKeys(namespace: string, accountId: string): AccountKeys {
  return new KeysOf(namespace, accountId);
}

/** The index of accounts with something due (hold expiry, cycle end), scored by when. */
export function deadlinesKey(namespace: string): string {
  return `${namespace}:deadlines`;
}
