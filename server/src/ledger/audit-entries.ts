import type { AppRedis } from "../redis/redis-client.js";
import { eventIdOfPacked } from "./audit-ids.js";

/**
 * The audit trail's two stream layouts, read as one (docs/ledger.md "Audit trail layout").
 *
 * Named (the layout of every entry before the packed one, and still of the rare kinds): one
 * stream entry per movement, its fields named (`k`, `amt`, `av`, `hd`, `od`, `cum`, then the
 * kind's own).
 *
 * Packed (lib/audit.lua): the consecutive hold, release and charge movements of one account in one
 * script, in ONE stream entry with the single field `m`, so field names are not stored per
 * movement. The entry's id `ms-s` is its first movement's id; its movements are `ms-s`,
 * `ms-(s+1)`, … (the script moves the stream's last id past them with XSETID), so every movement
 * keeps a unique, ordered `ms-seq` id. `m` is `<cum before>` then, per movement, `|` and its
 * positions joined by `,` (POSITIONS); `^` stands for the value at the same position in the entry's
 * latest earlier movement that has it (a release and the charge of the same event share eid, sid,
 * act and step); an empty av, hd or od is the balance as it follows from the movement before
 * (`derived`); any other empty or missing trailing position is a field left out (the named layout
 * leaves empty values out too). A UUID eid is kept as "." and its 16 bytes in base64url
 * (audit-ids.ts; since 2026-12-04, older entries keep it whole). `cum` is not stored per movement: it grows by each charge.
 */

/** A stream entry's fields as Redis returns them (and an expanded movement's, named layout). */
export type EntryFields = Record<string, string>;

/** One ledger movement: its own `ms-seq` id and its fields in the named layout. */
export interface Movement {
  id: string;
  fields: EntryFields;
}

/** The field holding a packed entry's movements. */
export const PACKED_FIELD = "m";

const KIND_OF: Record<string, string> = { h: "hold", r: "release", c: "charge" };
// Positions after the kind letter (0) and the amount (1); hold and release stop after `step`.
const HOT = ["amt", "av", "hd", "od", "eid", "sid", "act", "step"] as const;
const CHARGE = [...HOT, "stg", "mdl", "units", "rate", "pbv"] as const;
/** The named field at each position of a packed movement, by kind letter (index 0 is the letter). */
export const POSITIONS: Record<string, readonly string[]> = {
  h: ["k", ...HOT],
  r: ["k", ...HOT],
  c: ["k", ...CHARGE],
};
// The named layout's field order (lib/audit.lua writes k, amt, av, hd, od, cum, then the kind's).
const ORDER = ["k", "amt", "av", "hd", "od", "cum", "eid", "sid", "act", "stg", "mdl", "step", "units", "rate", "pbv"];
const DITTO = "^";

/** `ms-seq` plus `i` in its sequence part (a packed entry's i-th movement). */
function nthId(id: string, i: number): string {
  if (i === 0) return id;
  const dash = id.indexOf("-");
  return `${id.slice(0, dash)}-${(BigInt(id.slice(dash + 1)) + BigInt(i)).toString()}`;
}

type Balance = [av: bigint, hd: bigint, od: bigint];

/**
 * The balance after a movement as it follows from the one after the movement before it (lib/audit
 * `audit_derived`): a hold moves credits from available to held, a release back; a charge draws
 * what is available and the rest is overdraft.
 */
function derived(letter: string, amt: bigint, [av, hd, od]: Balance): Balance {
  if (letter === "h") return [av - amt, hd + amt, od];
  if (letter === "r") return [av + amt, hd - amt, od];
  const drawn = amt < av ? amt : av;
  return [av - drawn, hd, od + amt - drawn];
}

function expandPacked(id: string, packed: string): Movement[] {
  const parts = packed.split("|");
  let cum = BigInt(parts[0] ?? "0");
  const last = new Map<number, string>();
  let balance: Balance | null = null;
  const out: Movement[] = [];
  for (let i = 1; i < parts.length; i++) {
    const values = (parts[i] ?? "").split(",");
    const letter = values[0] ?? "";
    const names = POSITIONS[letter];
    const kind = KIND_OF[letter];
    if (!names || !kind) throw new Error(`audit entry ${id}: unknown packed kind "${letter}"`);
    // av, hd, od (positions 2-4): empty when they follow from the movement before.
    const guess = balance ? derived(letter, BigInt(values[1] || "0"), balance) : null;
    const now: Balance = [0n, 0n, 0n];
    for (let b = 0; b < 3; b++) {
      const raw = values[b + 2] ?? "";
      const v = raw !== "" ? BigInt(raw) : guess?.[b];
      if (v === undefined) throw new Error(`audit entry ${id}: movement ${i} has no balance`);
      now[b] = v;
      values[b + 2] = v.toString();
    }
    balance = now;
    const named: EntryFields = { k: kind };
    for (let p = 1; p < names.length; p++) {
      const raw = values[p] ?? "";
      const v = raw === DITTO ? (last.get(p) ?? "") : raw;
      last.set(p, v);
      const name = names[p];
      // A UUID eventId is kept packed (audit-ids.ts): the movement answers it whole.
      if (v !== "" && name) named[name] = name === "eid" ? eventIdOfPacked(v) : v;
    }
    if (kind === "charge") cum += BigInt(named.amt ?? "0");
    named.cum = cum.toString();
    const fields: EntryFields = {};
    for (const name of ORDER) {
      const v = named[name];
      if (v !== undefined) fields[name] = v;
    }
    out.push({ id: nthId(id, i - 1), fields });
  }
  return out;
}

/** True for an entry of the packed layout (several movements in field `m`). */
export function isPacked(message: EntryFields): boolean {
  return message[PACKED_FIELD] !== undefined && message.k === undefined;
}

/**
 * The movements of one stream entry, oldest first: a named entry is one movement as it is; a
 * packed one is expanded to its movements, each with its own id and the named layout's fields.
 */
export function expandEntry(id: string, message: EntryFields): Movement[] {
  const packed = message[PACKED_FIELD];
  if (packed === undefined || message.k !== undefined) return [{ id, fields: message }];
  return expandPacked(id, packed);
}

/** The movements of stream entries in stream order. */
export function expandEntries(entries: readonly { id: string; message: EntryFields }[]): Movement[] {
  return entries.flatMap(({ id, message }) => expandEntry(id, message));
}

/** Orders stream ids by (ms, seq): negative, zero or positive, like a sort comparator. */
export function compareIds(a: string, b: string): number {
  const [am = "0", as = "0"] = a.split("-");
  const [bm = "0", bs = "0"] = b.split("-");
  const ms = BigInt(am) - BigInt(bm);
  const d = ms !== 0n ? ms : BigInt(as) - BigInt(bs);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}

/**
 * Up to `n` movements of a trail below `cursor` (a movement id; null: from the newest), newest
 * first. The entry holding the cursor's movement starts below it (its id is its first movement's),
 * so it is read, and only its movements below the cursor are kept.
 */
export async function movementsBefore(
  redis: AppRedis,
  log: string,
  cursor: string | null,
  n: number,
): Promise<Movement[]> {
  const out: Movement[] = [];
  let end = cursor ? `(${cursor}` : "+";
  for (;;) {
    // Every entry below the cursor holds at least one movement below it: n entries are enough.
    const want = n - out.length;
    const batch = await redis.xRevRange(log, end, "-", { COUNT: want });
    for (const { id, message } of batch) {
      const moves = expandEntry(id, message);
      for (let i = moves.length - 1; i >= 0; i--) {
        const m = moves[i];
        if (m && (cursor === null || compareIds(m.id, cursor) < 0)) out.push(m);
      }
    }
    const last = batch.at(-1);
    if (out.length >= n || batch.length < want || !last) return out.slice(0, n);
    end = `(${last.id}`;
  }
}
