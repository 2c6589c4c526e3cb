/** A movement's fields in the named layout (ledger/audit-entries.ts expands packed entries). */
export type { EntryFields } from "../ledger/audit-entries.js";
import type { EntryFields } from "../ledger/audit-entries.js";

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

/** Orders stream ids by (ms, seq) (one comparator for the ledger's reads and the archive's). */
export { compareIds } from "../ledger/audit-entries.js";

/**
 * The row a ledger movement (an expanded audit entry: ledger/audit-entries.ts) is archived as. The group keys are what /usage groups by (ledger/reads.ts
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
