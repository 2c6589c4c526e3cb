import { describe, expect, it } from "vitest";
import { compareIds, expandEntries, expandEntry, isPacked } from "./audit-entries.js";

describe("expandEntry", () => {
  it("reads a named (pre-packed) entry as one movement, as it is", () => {
    const old = { k: "grant", amt: "100", av: "100", hd: "0", od: "0", cum: "0", bucket: "c1", actor: "ops, me|^" };
    expect(isPacked(old)).toBe(false);
    expect(expandEntry("17-3", old)).toEqual([{ id: "17-3", fields: old }]);
    // Entries from before `cum` (v1.1) too.
    expect(expandEntry("5-0", { k: "charge", amt: "2" })).toEqual([{ id: "5-0", fields: { k: "charge", amt: "2" } }]);
  });

  it("expands a packed entry to movements with consecutive ids, the named fields and a running cum", () => {
    const m = "40|h,5,95,5,0,e1,s1,image,st1|r,5,100,0,0,e2,^,^,^|c,7,93,0,0,^,^,^,^,keyframes,,,7,pb1";
    expect(isPacked({ m })).toBe(true);
    expect(expandEntry("1700000000000-4", { m })).toEqual([
      {
        id: "1700000000000-4",
        fields: {
          k: "hold",
          amt: "5",
          av: "95",
          hd: "5",
          od: "0",
          cum: "40",
          eid: "e1",
          sid: "s1",
          act: "image",
          step: "st1",
        },
      },
      {
        id: "1700000000000-5",
        fields: {
          k: "release",
          amt: "5",
          av: "100",
          hd: "0",
          od: "0",
          cum: "40",
          eid: "e2",
          sid: "s1",
          act: "image",
          step: "st1",
        },
      },
      {
        id: "1700000000000-6",
        fields: {
          k: "charge",
          amt: "7",
          av: "93",
          hd: "0",
          od: "0",
          cum: "47",
          eid: "e2",
          sid: "s1",
          act: "image",
          stg: "keyframes",
          step: "st1",
          rate: "7",
          pbv: "pb1",
        },
      },
    ]);
  });

  it("takes a ditto from the latest movement that has the position, and an empty value as absent", () => {
    const m = "0|c,2,0,0,2,e1,s,script,a,research,gpt,2,1,v1|h,1,0,1,2,e2,^,^,b|c,3,0,0,5,e3,^,^,^,^,,^,^,^";
    const [, hold, charge] = expandEntry("9-0", { m });
    expect(hold?.fields).toMatchObject({ k: "hold", eid: "e2", sid: "s", act: "script", step: "b", cum: "2" });
    expect(charge?.id).toBe("9-2");
    expect(charge?.fields).toMatchObject({ stg: "research", units: "2", rate: "1", pbv: "v1", step: "b", cum: "5" });
    expect(charge?.fields.mdl).toBeUndefined();
  });

  it("derives an empty balance from the movement before: hold, release, and a charge past what is available", () => {
    const m = "0|h,4,6,4,0,e1,s,a,x|r,4,,,,^,^,^,^|c,9,,,,^,^,^,^|h,2,5,2,,e2,^,^,y";
    const balances = expandEntry("1-0", { m }).map((x) => [x.fields.av, x.fields.hd, x.fields.od, x.fields.cum]);
    expect(balances).toEqual([
      ["6", "4", "0", "0"],
      ["10", "0", "0", "0"],
      ["1", "0", "0", "9"],
      ["5", "2", "0", "9"],
    ]);
    const clamped = expandEntry("1-0", { m: "0|h,1,3,1,0,e,s,a,x|c,5,,,,^,^,^,^" });
    expect(clamped[1]?.fields).toMatchObject({ av: "0", hd: "1", od: "2" });
    expect(() => expandEntry("1-0", { m: "0|h,1,,,,e,s,a,x" })).toThrow(/no balance/);
  });

  it("keeps sequence numbers beyond 2^53 exact", () => {
    const [, second] = expandEntry("1-9007199254740993", { m: "0|h,1,0,1,0,e,s,a,x|h,1,0,2,0,f,^,^,y" });
    expect(second?.id).toBe("1-9007199254740994");
  });

  it("refuses a packed movement of an unknown kind", () => {
    expect(() => expandEntry("1-0", { m: "0|z,1" })).toThrow(/unknown packed kind/);
  });

  it("expands a mixed run in stream order", () => {
    const ids = expandEntries([
      { id: "1-0", message: { k: "expiry", amt: "1" } },
      { id: "1-1", message: { m: "0|h,1,0,1,0,e,s,a,x|h,1,0,2,0,f,^,^,y" } },
      { id: "2-0", message: { k: "grant", amt: "1" } },
    ]).map((m) => m.id);
    expect(ids).toEqual(["1-0", "1-1", "1-2", "2-0"]);
  });
});

describe("compareIds", () => {
  it("orders by millisecond, then sequence, numerically", () => {
    expect(compareIds("9-0", "12-0")).toBe(-1);
    expect(compareIds("12-10", "12-9")).toBe(1);
    expect(compareIds("3-3", "3-3")).toBe(0);
  });
});
