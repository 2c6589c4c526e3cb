import type { AppRedis } from "../redis/redis-client.js";
import { expandEntry } from "./audit-entries.js";

/** Where a sum of pre-v1.1 audit entries stands: the last one summed ("" for none) and their charges. */
export interface LegacySum {
  after: string;
  sum: number;
}

const PAGE = 1000;

/**
 * Sums the charges of audit entries without a running total (`cum`, written since v1.1) from
 * `startMs` (or after `from.after`) up to the first entry that has one. It runs outside Redis's
 * script engine, in pages, so a long pre-v1.1 history never blocks Redis; start-cycle-5 asks for
 * it (`needs_legacy_sum`) and takes the rest from the running totals.
 */
export async function sumLegacyCharges(
  redis: AppRedis,
  log: string,
  startMs: number,
  from: LegacySum,
): Promise<LegacySum> {
  let { after, sum } = from;
  let cursor = after ? `(${after}` : String(Math.max(0, startMs));
  for (;;) {
    const batch = await redis.xRange(log, cursor, "+", { COUNT: PAGE });
    for (const { id, message } of batch) {
      // A packed entry always has `cum` (its movements' come from the entry's).
      for (const m of expandEntry(id, message)) {
        if (m.fields.cum !== undefined) return { after, sum };
        if (m.fields.k === "charge") sum += Number(m.fields.amt ?? 0);
        after = m.id;
      }
    }
    const last = batch.at(-1);
    if (batch.length < PAGE || !last) return { after, sum };
    cursor = `(${last.id}`;
  }
}
