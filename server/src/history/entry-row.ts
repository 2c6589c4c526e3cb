/** A stream entry's fields as Redis returns them. */
export type EntryFields = Record<string, string>;

/** The columns of one ledger_entries row (account_id aside). */
export interface EntryRow {
  ms: string;
  seq: string;
  kind: string;
  amount: string;
  actionKey: string;
  stageKey: string;
  modelKey: string;
  sessionKey: string;
  fields: string;
}

/** Splits a stream id `ms-seq` into its two decimal parts. */
export function splitId(id: string): { ms: string; seq: string } {
  const dash = id.indexOf("-");
  return { ms: id.slice(0, dash), seq: id.slice(dash + 1) };
}

/** The millisecond of a stream id. */
export function msOf(id: string): number {
  return Number(splitId(id).ms);
}

/** Orders stream ids by (ms, seq): negative, zero or positive, like a sort comparator. */
export function compareIds(a: string, b: string): number {
  const x = splitId(a);
  const y = splitId(b);
  const ms = BigInt(x.ms) - BigInt(y.ms);
  const d = ms !== 0n ? ms : BigInt(x.seq) - BigInt(y.seq);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}

/**
 * The row an audit entry is archived as. The group keys are what /usage groups by (ledger/reads.ts
 * groupKey: a missing field is "none"); `amount` is the stream's `amt` as written (an integer).
 * Everything else stays in `fields`, read back by the same decoder as a Redis read.
 */
export function toRow(id: string, f: EntryFields): EntryRow {
  const amount = f.amt ?? "0";
  if (!/^-?\d+$/.test(amount)) throw new Error(`audit entry ${id}: amt "${amount}" is not an integer`);
  return {
    ...splitId(id),
    kind: f.k ?? "",
    amount,
    actionKey: f.act ?? "none",
    stageKey: f.stg ?? "none",
    modelKey: f.mdl ?? "none",
    sessionKey: f.sid ?? "none",
    fields: JSON.stringify(f),
  };
}
