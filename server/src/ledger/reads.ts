import type { AppRedis } from "../redis/redis-client.js";
import type { LedgerEntry, LedgerPage, LedgerQuery, Usage, UsageQuery } from "@creditmeter/shared";

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

/** Totals of charges applied in [from, to), grouped (CONTRACT §4 usage). */
export async function readUsage(redis: AppRedis, log: string, query: UsageQuery): Promise<Usage> {
  const to = query.to ? Date.parse(query.to) : Date.now();
  const from = query.from ? Date.parse(query.from) : to - 30 * DAY;
  const groups = new Map<string, { credits: number; count: number }>();
  let total = 0;
  let cursor = String(Math.max(0, from));
  // "(<ms>" alone would still include ids <ms>-1.. (an incomplete end id means the last of that ms).
  const end = `(${Math.max(0, to)}-0`;
  for (;;) {
    const batch = await redis.xRange(log, cursor, end, { COUNT: PAGE });
    for (const { id, message } of batch) {
      if (message.k !== "charge") continue;
      const amount = Number(message.amt ?? 0);
      const key = groupKey(query.groupBy, message, atOf(id));
      const g = groups.get(key) ?? { credits: 0, count: 0 };
      g.credits += amount;
      g.count += 1;
      groups.set(key, g);
      total += amount;
    }
    const last = batch.at(-1);
    if (batch.length < PAGE || !last) break;
    cursor = `(${last.id}`;
  }
  return {
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    groupBy: query.groupBy,
    total,
    groups: [...groups]
      .map(([key, g]) => ({ key, ...g }))
      .sort((a, b) => b.credits - a.credits || a.key.localeCompare(b.key)),
  };
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

function toEntry(id: string, f: Fields): LedgerEntry {
  const kind = KINDS.has(f.k as LedgerEntry["kind"]) ? (f.k as LedgerEntry["kind"]) : "adjustment";
  return {
    id,
    at: new Date(atOf(id)).toISOString(),
    kind,
    amount: Number(f.amt ?? 0),
    eventId: f.eid ?? null,
    sessionId: f.sid ?? null,
    action: f.act ?? null,
    balanceAfter: { available: Number(f.av ?? 0), held: Number(f.hd ?? 0), overdraft: Number(f.od ?? 0) },
    ...kindFields(kind, f),
  };
}

/** One page of the audit trail, newest first; `nextCursor` continues after the last entry. */
export async function readLedgerPage(redis: AppRedis, log: string, query: LedgerQuery): Promise<LedgerPage> {
  const end = query.cursor ? `(${query.cursor}` : "+";
  const batch = await redis.xRevRange(log, end, "-", { COUNT: query.limit + 1 });
  const page = batch.slice(0, query.limit);
  const last = page.at(-1);
  return {
    entries: page.map(({ id, message }) => toEntry(id, message)),
    nextCursor: batch.length > query.limit && last ? last.id : null,
  };
}
