/**
 * The /ops aggregates' Redis keys. They all carry one `{ops}` hash tag so a flush is one MULTI
 * and the emitter's unions run in one Redis Cluster slot; every key but the lease expires by itself.
 */
export interface OpsKeys {
  /** Hash of one second's figures: n (charges), c (credits), a:<action>, m:<model>. */
  second(epochSecond: number): string;
  /** Sorted set of credits per `accountId/sessionId` in one 10-second bucket. */
  sessions(bucket: number): string;
  /** Sorted set of credits per accountId in one 10-second bucket. */
  accounts(bucket: number): string;
  /** Sorted set `accountId/sessionId` → last charge or progress (ms). */
  active: string;
  /** Sorted set with one member whose score is the newest applied event's occurredAt (ms). */
  newest: string;
  /** List of recent charges (JSON) waiting for the emitter. */
  charges: string;
  /** List of alerts (JSON) waiting for the emitter. */
  alerts: string;
  /** Which node emits (a lease). */
  leader: string;
  /** Scratch key for one node's union of the top lists. */
  scratch(nodeId: string): string;
}

/** Seconds per top-list bucket: the top lists cover the last 5 minutes in steps of this. */
export const TOP_BUCKET_SECONDS = 10;
/** How far back the widest figure (top lists, by action, by model, active sessions) looks. */
export const WINDOW_SECONDS = 300;
/** Aggregate keys live a little longer than the window they serve. */
export const AGGREGATE_TTL_SECONDS = WINDOW_SECONDS + 60;

/** The /ops keys under a namespace (CREDITMETER_KEY_PREFIX). */
export function opsKeys(namespace: string): OpsKeys {
  const p = `${namespace}:{ops}:`;
  return {
    second: (s) => `${p}s:${s}`,
    sessions: (b) => `${p}ts:${b}`,
    accounts: (b) => `${p}ta:${b}`,
    active: `${p}active`,
    newest: `${p}newest`,
    charges: `${p}charges`,
    alerts: `${p}alerts`,
    leader: `${p}leader`,
    scratch: (nodeId) => `${p}tmp:${nodeId}`,
  };
}
