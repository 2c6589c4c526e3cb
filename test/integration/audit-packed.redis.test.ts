/**
 * The audit trail's packed layout, written by the ledger's own Lua (lib/audit) and read back by
 * the one TypeScript expansion (ledger/audit-entries.ts): whatever movements a script queues, the
 * movements read back are those the named layout would have written, one per movement, with
 * unique ms-seq ids that keep growing across scripts.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { randomUUID } from "node:crypto";
import { assembleLua } from "../../server/src/ledger/scripts.js";
import { compareIds, expandEntries, type EntryFields } from "../../server/src/ledger/audit-entries.js";
import { useTestRedis } from "../support/ledger.js";

// Queues the movements of ARGV[2] (JSON) through lib/audit's `audit` and writes them with
// `audit_flush`, under the virtual clock ARGV[1], as one script: the account's state before
// each movement is what the movement carries (available = sub_rem − held).
const HARNESS = `${assembleLua("lib/context")}
local ctx = { log = KEYS[1], now = tonumber(ARGV[1]), virtual = true, retention_ms = 400 * 86400000 }
for _, m in ipairs(cjson.decode(ARGV[2])) do
  local a = { sub_rem = m.av + m.hd, packs = {}, held = m.hd, overdraft = m.od, tot_charged = m.cum }
  audit(ctx, a, m.kind, m.amt, m.fields)
end
audit_flush(ctx)
return "ok"`;

const NOW = "1700000000000";

interface Move {
  kind: string;
  amt: number;
  av: number;
  hd: number;
  od: number;
  cum: number;
  fields: string[];
}

const id = fc.constantFrom("e1", "e2", "sess-a", "s.b_c-9", randomUUID(), "x");
const maybe = (a: fc.Arbitrary<string>): fc.Arbitrary<string> => fc.oneof(a, fc.constant(""));
// Free text, separators and the ditto included (such a movement is written named, not packed).
const text = fc.oneof(fc.constantFrom("gpt-4o", "model|x", "a,b", "^", "m^2", "voice 2"), fc.string({ maxLength: 8 }));
const num = fc.nat({ max: 2_000_000 });

const hot = fc.record({
  kind: fc.constantFrom("hold", "release"),
  amt: num,
  fields: fc.tuple(id, id, id, id).map(([e, s, a, st]) => ["eid", e, "sid", s, "act", a, "step", st]),
});
const charge = fc.record({
  kind: fc.constant("charge"),
  amt: num,
  fields: fc
    .tuple(
      id,
      id,
      id,
      maybe(id),
      maybe(text),
      id,
      maybe(fc.constantFrom("3", "12.5")),
      maybe(fc.constantFrom("2", "7")),
      fc.oneof(id, text),
    )
    .map(([e, s, a, g, m, st, u, r, p]) => [
      "eid",
      e,
      "sid",
      s,
      "act",
      a,
      "stg",
      g,
      "mdl",
      m,
      "step",
      st,
      "units",
      u,
      "rate",
      r,
      "pbv",
      p,
    ]),
});
const rare = fc.record({
  kind: fc.constantFrom("expiry", "grant", "adjustment", "forfeit"),
  amt: num,
  fields: fc.tuple(text, text).map(([w, b]) => ["why", w, "bucket", b, "dir", "credit"]),
});
const moves = fc.array(
  fc.record({
    m: fc.oneof({ weight: 4, arbitrary: hot }, { weight: 4, arbitrary: charge }, { weight: 1, arbitrary: rare }),
    av: num,
    hd: num,
    od: num,
    // Now and then a running total that does not follow from the charges (a new packed entry).
    jump: fc.oneof({ weight: 9, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.nat({ max: 50 }) }),
    follow: fc.boolean(),
  }),
  { minLength: 1, maxLength: 30 },
);

/** The balance after a movement as the ledger's rules leave it, from the one before (lib/apply). */
function follows(kind: string, amt: number, p: Move): { av: number; hd: number; od: number } {
  if (kind === "hold") return { av: p.av - amt, hd: p.hd + amt, od: p.od };
  if (kind === "release") return { av: p.av + amt, hd: p.hd - amt, od: p.od };
  const drawn = Math.min(amt, p.av);
  return { av: p.av - drawn, hd: p.hd, od: p.od + amt - drawn };
}

/** What the named layout writes for a movement: k, amt, av, hd, od, cum, then non-empty fields. */
function named(m: Move): EntryFields {
  const f: EntryFields = {
    k: m.kind,
    amt: String(m.amt),
    av: String(m.av),
    hd: String(m.hd),
    od: String(m.od),
    cum: String(m.cum),
  };
  for (let i = 0; i < m.fields.length; i += 2) {
    const v = m.fields[i + 1] ?? "";
    if (v !== "") f[m.fields[i] ?? ""] = v;
  }
  return f;
}

describe("the packed audit layout (lib/audit → ledger/audit-entries.ts)", () => {
  const redis = useTestRedis();

  it("reads back every movement as the named layout would have written it, ids unique and growing", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(moves, { minLength: 1, maxLength: 3 }), fc.boolean(), async (scripts, sameMs) => {
        const log = `t-${randomUUID()}:{a}:log`;
        let cum = 0;
        let now = 1_700_000_000_000;
        const written: Move[] = [];
        for (const script of scripts) {
          let prev: Move | null = null;
          const ms: Move[] = script.map(({ m, av, hd, od, jump, follow }) => {
            cum += jump + (m.kind === "charge" ? m.amt : 0);
            // Mostly the balance a real script leaves (it follows from the movement before), a
            // charge past what is available included; now and then any balance.
            const next = follow && prev ? follows(m.kind, m.amt, prev) : null;
            // (available is never negative: a hold above it is denied.)
            const b = next && next.av >= 0 ? next : { av, hd, od };
            const move: Move = { ...m, ...b, cum };
            prev = move;
            return move;
          });
          // Several scripts in one millisecond: each continues where the last movement's id left off.
          if (!sameMs) now += 1;
          await redis().eval(HARNESS, { keys: [log], arguments: [String(now), JSON.stringify(ms)] });
          written.push(...ms);
        }
        const entries = await redis().xRange(log, "-", "+");
        const read = expandEntries(entries);
        expect(read.map((r) => r.fields)).toEqual(written.map(named));
        for (let i = 1; i < read.length; i++) expect(compareIds(read[i - 1]?.id ?? "", read[i]?.id ?? "")).toBe(-1);
        // The packed entries really are packed: fewer stream entries than movements when runs exist.
        expect(entries.length).toBeLessThanOrEqual(read.length);
        await redis().del(log);
      }),
      { numRuns: 60 },
    );
  });

  it("packs one script's hot movements into one entry whose id is the first movement's, and the next entry starts above them", async () => {
    const log = `t-${randomUUID()}:{a}:log`;
    const mv = (kind: string, eid: string, amt: number, [av, hd, cum]: number[]): Move => ({
      kind,
      amt,
      av: av ?? 0,
      hd: hd ?? 0,
      od: 0,
      cum: cum ?? 0,
      fields: ["eid", eid, "sid", "s", "act", "image", "step", "st"],
    });
    const first = [
      mv("hold", "e1", 5, [95, 5, 0]),
      mv("release", "e2", 5, [100, 0, 0]),
      mv("charge", "e2", 7, [93, 0, 7]),
    ];
    await redis().eval(HARNESS, { keys: [log], arguments: [NOW, JSON.stringify(first)] });
    await redis().eval(HARNESS, { keys: [log], arguments: [NOW, JSON.stringify([mv("hold", "e3", 5, [88, 5, 7])])] });
    const entries = await redis().xRange(log, "-", "+");
    expect(entries.map((e) => e.id)).toEqual([`${NOW}-0`, `${NOW}-3`]);
    // The release's and the charge's balances follow from the hold's: left out.
    expect(entries[0]?.message).toEqual({ m: "0|h,5,95,5,0,e1,s,image,st|r,5,,,,e2,^,^,^|c,7,,,,^,^,^,^" });
    expect(expandEntries(entries).map((m) => [m.fields.av, m.fields.hd, m.fields.od, m.fields.cum])).toEqual([
      ["95", "5", "0", "0"],
      ["100", "0", "0", "0"],
      ["93", "0", "0", "7"],
      ["88", "5", "0", "7"],
    ]);
    expect(expandEntries(entries).map((m) => m.id)).toEqual([0, 1, 2, 3].map((s) => `${NOW}-${s}`));
    await redis().del(log);
  });
});
