import type { AppRedis } from "../redis/redis-client.js";
import type { LedgerEntry, LedgerPage, LedgerQuery, Usage, UsageQuery } from "@creditmeter/shared";
import { expandEntry, movementsBefore } from "./audit-entries.js";
import { eventIdOfPacked } from "./audit-ids.js";
import { sortUsageGroups } from "./usage-order.js";

const DAY = 86_400_000;
const PAGE = 1000;

type Fields = Record<string, string>;

function atOf(id: string): number {
  return Number(id.slice(0, id.indexOf("-")));
}

function groupKey(groupBy: UsageQuery["groupBy"], f: Fields, at: number): string {
  switch (groupBy) {
    case "action":
      return f.act ?? "none";
    case "stage":
      return f.stg ?? "none";
    case "model":
      return f.mdl ?? "none";
    case "session":
      return f.sid ?? "none";
    case "day":
      return new Date(at).toISOString().slice(0, 10);
  }
}

/** Per group key: credits charged and number of charges. */
export type UsageGroups = Map<string, { credits: number; count: number }>;

/** The window [from, to) of a usage query in ms: default the last 30 days (CONTRACT §4). */
export function usageWindow(query: UsageQuery, now = Date.now()): { from: number; to: number } {
  const to = query.to ? Date.parse(query.to) : now;
  const from = query.from ? Date.parse(query.from) : to - 30 * DAY;
  return { from, to };
}

/** Adds `credits` over `count` charges to a group. */
export function addToGroup(groups: UsageGroups, key: string, credits: number, count: number): void {
  const g = groups.get(key) ?? { credits: 0, count: 0 };
  g.credits += credits;
  g.count += count;
  groups.set(key, g);
}

/** Adds the charges of the trail in [fromMs, toMs) to `groups`. */
export async function scanUsage(
  redis: AppRedis,
  log: string,
  fromMs: number,
  toMs: number,
  groupBy: UsageQuery["groupBy"],
  groups: UsageGroups,
): Promise<void> {
  let cursor = String(Math.max(0, fromMs));
  // "(<ms>" alone would still include ids <ms>-1.. (an incomplete end id means the last of that ms).
  const end = `(${Math.max(0, toMs)}-0`;
  for (;;) {
    const batch = await redis.xRange(log, cursor, end, { COUNT: PAGE });
    // A packed entry's movements are all in its own millisecond: whole entries fit the window.
    for (const { id, message } of batch) {
      for (const m of expandEntry(id, message)) {
        if (m.fields.k !== "charge") continue;
        addToGroup(groups, groupKey(groupBy, m.fields, atOf(m.id)), Number(m.fields.amt ?? 0), 1);
      }
    }
    const last = batch.at(-1);
    if (batch.length < PAGE || !last) break;
    cursor = `(${last.id}`;
  }
}

/**
 * The usage answer for grouped totals: groups by credits (most first), then key. Refuses sums a
 * JSON number cannot carry exactly (2^53 and up): Redis amounts and PostgreSQL's exact sums both
 * become doubles here, and a rounded bill must fail loudly rather than answer a near number.
 */
export function usageAnswer(from: number, to: number, groupBy: UsageQuery["groupBy"], groups: UsageGroups): Usage {
  let total = 0;
  let charges = 0;
  for (const g of groups.values()) {
    total += g.credits;
    charges += g.count;
  }
  // Credits and counts are never negative, so every group and every partial sum is at most these:
  // both safe means every number below was added exactly.
  if (!Number.isSafeInteger(total) || !Number.isSafeInteger(charges))
    throw new Error(`usage: ${total} credits over ${charges} charges is past exact integers (2^53)`);
  return {
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    groupBy,
    total,
    groups: sortUsageGroups(Array.from(groups, ([key, g]) => ({ key, credits: g.credits, count: g.count }))),
  };
}

/** Totals of charges applied in [from, to), grouped (CONTRACT §4 usage). */
export async function readUsage(redis: AppRedis, log: string, query: UsageQuery): Promise<Usage> {
  const { from, to } = usageWindow(query);
  const groups: UsageGroups = new Map();
  await scanUsage(redis, log, from, to, query.groupBy, groups);
  return usageAnswer(from, to, query.groupBy, groups);
}

const KINDS = new Set<LedgerEntry["kind"]>(["grant", "hold", "release", "charge", "expiry", "forfeit", "adjustment"]);

/**
 * What only some kinds carry (CONTRACT §4 v1.1): who posted a grant or adjustment, and which way
 * an adjustment went. Adjustments written before v1.1 have a signed amount and no `dir`: the sign
 * gives the direction and the amount is shown as its magnitude, like every other.
 */
function kindFields(kind: LedgerEntry["kind"], f: Fields): Partial<LedgerEntry> {
  switch (kind) {
    case "grant":
      return { actor: f.actor ?? null };
    case "adjustment": {
      const signed = Number(f.amt ?? 0);
      const direction = f.dir === "debit" || f.dir === "credit" ? f.dir : signed < 0 ? "debit" : "credit";
      return { amount: Math.abs(signed), direction, actor: f.actor ?? null };
    }
    case "charge":
      // Charges written before v1.1 have no rate: they carry nulls rather than a made-up basis.
      return {
        units: f.units === undefined ? null : Number(f.units),
        rate: f.rate === undefined ? null : Number(f.rate),
        model: f.mdl ?? null,
        priceBookVersion: f.pbv ?? null,
      };
    default:
      return {};
  }
}

/** A trail entry as the API shows it (CONTRACT §4), from its stream id and fields. */
export function toEntry(id: string, f: Fields): LedgerEntry {
  const kind = KINDS.has(f.k as LedgerEntry["kind"]) ? (f.k as LedgerEntry["kind"]) : "adjustment";
  return {
    id,
    at: new Date(atOf(id)).toISOString(),
    kind,
    amount: Number(f.amt ?? 0),
    // Expanded again here (a no-op on what expandEntry read): an archive row copied by a release
    // before audit-ids.ts keeps a UUID in its packed form.
    eventId: f.eid === undefined ? null : eventIdOfPacked(f.eid),
    sessionId: f.sid ?? null,
    action: f.act ?? null,
    balanceAfter: { available: Number(f.av ?? 0), held: Number(f.hd ?? 0), overdraft: Number(f.od ?? 0) },
    ...kindFields(kind, f),
  };
}

/** One page of the audit trail, newest first; `nextCursor` continues after the last entry. */
export async function readLedgerPage(redis: AppRedis, log: string, query: LedgerQuery): Promise<LedgerPage> {
  const moves = await movementsBefore(redis, log, query.cursor ?? null, query.limit + 1);
  const page = moves.slice(0, query.limit);
  const last = page.at(-1);
  return {
    entries: page.map(({ id, fields }) => toEntry(id, fields)),
    nextCursor: moves.length > query.limit && last ? last.id : null,
  };
}
