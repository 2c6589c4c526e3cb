import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { eventIdOfPacked, packedEventId } from "./audit-ids.js";
import { toEntry } from "./reads.js";

// CONTRACT §2's eventId pattern (its "not all digits" as a filter: fast-check has no lookahead).
const eventId = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/).filter((s) => !/^[0-9]+$/.test(s));

describe("eventIds in packed audit entries (audit-ids.ts)", () => {
  it("a lowercase UUID packs to 23 characters and back to itself", () => {
    fc.assert(
      fc.property(fc.uuid(), (u) => {
        const packed = packedEventId(u);
        expect(packed).toMatch(/^\.[\w-]{22}$/);
        expect(packed).not.toMatch(/[,|^]/); // the packed layout's separators and ditto
        expect(eventIdOfPacked(packed)).toBe(u);
      }),
    );
  });

  it("any other eventId is kept as it is, and reads back as itself", () => {
    fc.assert(
      fc.property(eventId, (id) => {
        fc.pre(!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id));
        expect(packedEventId(id)).toBe("");
        expect(eventIdOfPacked(id)).toBe(id);
      }),
    );
    expect(packedEventId("0B9F0D5E-6F53-4A4C-9D3E-7A1C1F0E2B12")).toBe(""); // uppercase would not read back
  });

  it("no eventId reads as a packed one", () => {
    fc.assert(
      fc.property(eventId, (id) => {
        expect(eventIdOfPacked(id)).toBe(id);
      }),
    );
  });

  it("an entry's eventId answers whole even when its fields kept it packed (an archive row copied by the release before)", () => {
    // That release's archiver expands packed entries without audit-ids.ts: its rows keep ".…".
    fc.assert(
      fc.property(fc.uuid(), (u) => {
        const entry = toEntry("1700000000000-0", { k: "charge", amt: "3", eid: packedEventId(u), act: "script" });
        expect(entry.eventId).toBe(u);
      }),
    );
    expect(toEntry("1700000000000-0", { k: "grant", amt: "3" }).eventId).toBeNull();
  });
});
