// How a packed audit entry keeps an eventId (lua/lib/audit.lua, docs/ledger.md "Audit trail
// layout"): a UUID in its canonical lowercase form (what producers send) as "." and its 16 bytes
// in base64url, 23 characters instead of 36; any other eventId as it is. No eventId starts with
// "." (CONTRACT §2: the first character is a letter or digit), so the two never mix.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PACKED = /^\.[A-Za-z0-9_-]{22}$/;

/** The packed form of a lowercase UUID eventId ("." + 22 base64url characters); "" for any other eventId (kept as it is). */
export function packedEventId(eventId: string): string {
  if (!UUID.test(eventId)) return "";
  return `.${Buffer.from(eventId.replaceAll("-", ""), "hex").toString("base64url")}`;
}

/** The eventId a packed audit entry's value stands for: a packed UUID back in its canonical form, anything else as it is. */
export function eventIdOfPacked(value: string): string {
  if (!PACKED.test(value)) return value;
  const hex = Buffer.from(value.slice(1), "base64url").toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
