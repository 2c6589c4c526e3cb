import type { OpsAlert, OpsCharge } from "@creditmeter/shared";
import { TOP_BUCKET_SECONDS } from "./ops-keys.js";

/** Increments to one hash, one sorted set or one marker, summed locally before they reach Redis. */
export interface SpendDelta {
  /** epochSecond → field → increment (n, c, a:<action>, m:<model>). */
  seconds: Map<number, Map<string, number>>;
  /** 10-second bucket → `accountId/sessionId` → credits. */
  sessions: Map<number, Map<string, number>>;
  /** 10-second bucket → accountId → credits. */
  accounts: Map<number, Map<string, number>>;
  /** `accountId/sessionId` → last seen (ms). */
  active: Map<string, number>;
  /** Newest applied event's occurredAt (ms), or null. */
  newest: number | null;
  /** The newest charges for the live feed, at most `keepCharges`. */
  charges: OpsCharge[];
  alerts: OpsAlert[];
}

/** Alerts one process hands the emitter per flush; a storm beyond it is summarised by a counter. */
export const MAX_ALERTS_PER_FLUSH = 50;

function bump<K>(map: Map<K, Map<string, number>>, key: K, field: string, by: number): void {
  let inner = map.get(key);
  if (!inner) {
    inner = new Map();
    map.set(key, inner);
  }
  inner.set(field, (inner.get(field) ?? 0) + by);
}

/** A session's member in the active and top-session sets (ids never contain "/"). */
export function sessionMember(accountId: string, sessionId: string): string {
  return `${accountId}/${sessionId}`;
}

/**
 * What one process applied since its last flush, summed by the second it was applied in, so a
 * flush is a handful of HINCRBYs whatever the load. Pure: the recorder owns the timing and Redis.
 */
export class SpendBatch {
  readonly delta: SpendDelta = {
    seconds: new Map(),
    sessions: new Map(),
    accounts: new Map(),
    active: new Map(),
    newest: null,
    charges: [],
    alerts: [],
  };
  private size = 0;
  /** Alerts not kept because a burst passed the per-flush cap (a storm of denials). */
  droppedAlerts = 0;

  constructor(private readonly keepCharges: number) {}

  /** True when nothing was recorded. */
  get empty(): boolean {
    return this.size === 0;
  }

  /** Counts one applied charge in the second of its `at` (the ledger's clock when it applied it). */
  charge(charge: OpsCharge): void {
    const atMs = Date.parse(charge.at);
    const second = Math.floor(atMs / 1000);
    const bucket = Math.floor(second / TOP_BUCKET_SECONDS);
    const d = this.delta;
    bump(d.seconds, second, "n", 1);
    bump(d.seconds, second, "c", charge.amount);
    bump(d.seconds, second, `a:${charge.action}`, charge.amount);
    bump(d.seconds, second, `m:${charge.model ?? "none"}`, charge.amount);
    const member = sessionMember(charge.accountId, charge.sessionId);
    bump(d.sessions, bucket, member, charge.amount);
    bump(d.accounts, bucket, charge.accountId, charge.amount);
    this.touch(charge.accountId, charge.sessionId, atMs);
    d.charges.push(charge);
    // The feed shows the newest; the figures above stay exact whatever is cut here.
    if (d.charges.length > this.keepCharges * 2) d.charges.splice(0, d.charges.length - this.keepCharges);
    this.size += 1;
  }

  /** Marks a session active (a charge or progress) at `atMs`. */
  touch(accountId: string, sessionId: string, atMs: number): void {
    const member = sessionMember(accountId, sessionId);
    this.delta.active.set(member, Math.max(atMs, this.delta.active.get(member) ?? 0));
    this.size += 1;
  }

  /** Remembers the newest occurredAt of an applied event (for consumer lag). */
  applied(occurredAtMs: number): void {
    this.delta.newest = Math.max(occurredAtMs, this.delta.newest ?? 0);
    this.size += 1;
  }

  /** Queues an alert for the emitter; past `MAX_ALERTS_PER_FLUSH` they are counted, not kept. */
  alert(alert: OpsAlert): void {
    if (this.delta.alerts.length >= MAX_ALERTS_PER_FLUSH) {
      this.droppedAlerts += 1;
      return;
    }
    this.delta.alerts.push(alert);
    this.size += 1;
  }

  /** The newest `keepCharges` charges, oldest first. */
  feed(): OpsCharge[] {
    return this.delta.charges.slice(-this.keepCharges);
  }
}
