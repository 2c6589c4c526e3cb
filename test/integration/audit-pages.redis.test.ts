/**
 * /ledger pages over packed audit entries (ledger/audit-entries.ts movementsBefore, reads.ts
 * readLedgerPage): whatever the page size and wherever a page ends inside a packed entry, paging
 * with each page's cursor returns every movement once, newest first.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { randomUUID } from "node:crypto";
import { expandEntries } from "../../server/src/ledger/audit-entries.js";
import { readLedgerPage } from "../../server/src/ledger/reads.js";
import { useTestRedis } from "../support/ledger.js";

/** A trail entry: a named grant, or a packed entry of `n` holds (as lib/audit writes them). */
const entry = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5 }));

describe("ledger pages across packed audit entries", () => {
  const redis = useTestRedis();

  it("page after page, every movement once and in order, for any page size", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ n: entry, sameMs: fc.boolean() }), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 1, max: 7 }),
        async (shape, limit) => {
          const log = `t-${randomUUID()}:{a}:log`;
          let ms = 1_700_000_000_000;
          let eid = 0;
          for (const { n, sameMs } of shape) {
            if (!sameMs) ms += 1;
            if (n === 0) {
              eid += 1;
              await redis().xAdd(log, `${ms}-*`, {
                k: "grant",
                amt: "1",
                av: "1",
                hd: "0",
                od: "0",
                cum: "0",
                eid: `e${eid}`,
              });
              continue;
            }
            const parts = ["0"];
            for (let i = 0; i < n; i++) {
              eid += 1;
              parts.push(`h,1,100,0,0,e${eid}`);
            }
            const id = await redis().xAdd(log, `${ms}-*`, { m: parts.join("|") });
            const [idMs, seq] = id.split("-");
            if (n > 1) await redis().sendCommand(["XSETID", log, `${idMs}-${Number(seq) + n - 1}`]);
          }
          const all = expandEntries(await redis().xRange(log, "-", "+")).reverse();
          const seen: string[] = [];
          let cursor: string | undefined;
          for (let pages = 0; pages <= all.length; pages++) {
            const page = await readLedgerPage(redis(), log, cursor ? { limit, cursor } : { limit });
            seen.push(...page.entries.map((e) => e.id));
            expect(page.entries.length).toBeLessThanOrEqual(limit);
            if (!page.nextCursor) break;
            cursor = page.nextCursor;
          }
          expect(seen).toEqual(all.map((m) => m.id));
          // `all` is read with the reader's own expandEntries: it must hold every movement written
          // (e1 … e<eid>, newest first), or a reader losing movements would agree with itself.
          expect(all.map((m) => m.fields.eid)).toEqual(Array.from({ length: eid }, (_, i) => `e${eid - i}`));
          await redis().del(log);
        },
      ),
      { numRuns: 80 },
    );
  });
});
