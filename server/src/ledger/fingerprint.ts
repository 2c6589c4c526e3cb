// An event's fingerprint (CONTRACT §2 v1.1): what its idempotency record keeps of it, so that a
// reused eventId with another body is told from a redelivery. Records keep it compact (lua/lib/idem.lua);
// records of the layout before keep a JSON array of the values.
import { hash } from "node:crypto";
import { packedEventId } from "./audit-ids.js";

/** The fields of an event's fingerprint (CONTRACT §2 v1.1), in the order a conflict is looked for. */
export const FINGERPRINT_FIELDS = ["type", "sessionId", "stepId", "action", "model", "scenes", "seconds"] as const;

export type FingerprintField = (typeof FINGERPRINT_FIELDS)[number];
const SCENES = FINGERPRINT_FIELDS.indexOf("scenes");

/**
 * The fingerprint's values of an event (or of anything shaped like one, e.g. a queued job's data),
 * null where absent. `scenes: 1` is the default of a per-scene action (CONTRACT §2), so it is kept
 * as null: sending it or leaving it out is the same event. Records written before this carry 1;
 * lib/apply.lua (and fingerprintDifference) read a stored 1 as null too.
 */
export function fingerprintValues(event: unknown): unknown[] {
  return FINGERPRINT_FIELDS.map((f, i) => {
    const v = fieldOf(event, f) ?? null;
    return i === SCENES && v === 1 ? null : v;
  });
}

/** A field of anything (undefined unless an object has it); top-level, as it runs for every event. */
function fieldOf(event: unknown, f: string): unknown {
  return typeof event === "object" && event !== null ? Reflect.get(event, f) : undefined;
}

/** A fingerprint value as the compact text writes it ("" when absent). */
function textOf(v: unknown): string {
  return v === null || v === undefined ? "" : String(v);
}

/** The first field where two fingerprints (fingerprintValues, or a record's stored array) differ, with its value in `was`; null when they are the same. */
export function fingerprintDifference(
  was: readonly unknown[],
  now: readonly unknown[],
): { field: FingerprintField; was: unknown } | null {
  for (const [i, field] of FINGERPRINT_FIELDS.entries()) {
    const norm = (v: unknown) => (i === SCENES && v === 1 ? null : (v ?? null));
    if (norm(was[i]) !== norm(now[i])) return { field, was: was[i] ?? null };
  }
  return null;
}

const TYPE_CODES: Record<string, string> = {
  "stage.started": "s",
  "stage.progress": "p",
  "stage.completed": "c",
  "stage.failed": "f",
};
const TYPES = new Map(Object.entries(TYPE_CODES).map(([t, c]) => [c, t]));

/**
 * The action of a compact fingerprint, one character a known action (never reassigned: records
 * live up to the idempotency retention + 15 days + 1 h, 45 days by default; a new action gets a
 * new letter); any other action is kept as its name, which is longer. Saves 4-13 characters a
 * record, enough to keep most in a 48-byte allocation.
 */
const ACTION_CODES: Readonly<Record<string, string>> = {
  web_research: "a",
  script: "b",
  creative_brief: "c",
  storyboard: "d",
  brand_style: "e",
  image: "f",
  voiceover: "g",
  music: "h",
  animation: "i",
  talking_head: "j",
};
const ACTION_NAMES = new Map(Object.entries(ACTION_CODES).map(([a, c]) => [c, a]));

/** The action a compact fingerprint's action field stands for. */
export function actionOfCode(code: unknown): unknown {
  return typeof code === "string" ? (ACTION_NAMES.get(code) ?? code) : code;
}

/**
 * SHA-1 of `text` in base64url (27 characters, no padding): 6 bits a character, and no comma.
 * crypto.hash, not createHash: one call without a Hash object, half the CPU (three per event).
 */
function sha1(text: string): string {
  return hash("sha1", text, "base64url");
}

/**
 * An eventId's field as the scripts take it: "e" and its whole SHA-1 in base64url, 28 characters
 * whatever the eventId's length. lua/lib/idem.lua stores the record under its first 14 ("e" and 78
 * bits: one 16-byte allocation; docs/decisions.md for collisions) and looks the whole 28 up too in
 * the generations written before (the name the layout before stored records under).
 */
export function eventField(eventId: string): string {
  return `e${sha1(eventId)}`;
}

/**
 * A step's field: "s" and 13 base64url characters (78 bits) of SHA-1 of "<sessionId>/<stepId>", 14
 * in all, the most a 16-byte allocation holds. A collision within an account's retention (at 10^7
 * steps, about 10^-10) would show one step the other's state.
 */
export function stepField(sessionId: string, stepId: string): string {
  return stepFieldOf(sha1(`${sessionId}/${stepId}`));
}

function stepFieldOf(stepHash: string): string {
  return `s${stepHash.slice(0, 13)}`;
}

/**
 * The compact fingerprint a record keeps (lua/lib/idem.lua): "<type code><8 base64url characters
 * of SHA-1 of the sessionId><8 of SHA-1 of sessionId/stepId>,<action code>,<scenes>,<seconds>,<model>"
 * ("" where absent; the model last, being free text). Ids are long and kept only as hashes: a
 * record tells a reused eventId under another session or step (a miss needs a 48-bit collision
 * between the two ids compared), not which id it had. The Lua compares these texts (a record of the
 * layout before: its values with the event's as sent).
 */
export function compactFingerprint(event: unknown): string {
  return compactWith(event, null);
}

/** compactFingerprint, given the SHA-1 of "<sessionId>/<stepId>" when the caller has it already (null: hashed here). */
function compactWith(event: unknown, stepHash: string | null): string {
  // fingerprintValues' values as text, read one by one: this runs for every event applied.
  const scenes = fieldOf(event, "scenes");
  const s = textOf(fieldOf(event, "sessionId"));
  const action = textOf(fieldOf(event, "action"));
  const act = ACTION_CODES[action] ?? action;
  const ofStep = stepHash ?? sha1(`${s}/${textOf(fieldOf(event, "stepId"))}`);
  const type = TYPE_CODES[textOf(fieldOf(event, "type"))] ?? "?";
  return `${type}${sha1(s).slice(0, 8)}${ofStep.slice(0, 8)},${act},${scenes === 1 ? "" : textOf(scenes)},${textOf(fieldOf(event, "seconds"))},${textOf(fieldOf(event, "model"))}`;
}

/**
 * The fingerprint argument of apply-events-4a: the event's field (28 characters), its step's field
 * (14), the eventId's packed audit form when it is a UUID (23 characters starting with ".":
 * audit-ids.ts; nothing otherwise), then compactFingerprint (which starts with a letter or "?").
 * The step's field and the fingerprint both start from the SHA-1 of "<sessionId>/<stepId>": hashed
 * once here.
 */
export function fingerprintArgument(event: { eventId: string; sessionId: string; stepId: string }): string {
  const stepHash = sha1(`${event.sessionId}/${event.stepId}`);
  return (
    eventField(event.eventId) + stepFieldOf(stepHash) + packedEventId(event.eventId) + compactWith(event, stepHash)
  );
}

/** The fields of a compact fingerprint, in FINGERPRINT_FIELDS order (ids as their hashes); null when unreadable. */
function compactFields(fp: string): unknown[] | null {
  const m = /^([spcf])([\w-]{8})([\w-]{8}),([^,]*),([^,]*),([^,]*),(.*)$/s.exec(fp);
  if (!m) return null;
  const num = (v: string | undefined) => (v ? Number(v) : null);
  return [
    TYPES.get(m[1] ?? "") ?? null,
    m[2] ?? "",
    m[3] ?? "",
    actionOfCode(m[4] ?? ""),
    m[7] ? m[7] : null,
    num(m[5]),
    num(m[6]),
  ];
}

/**
 * The first field where a record's compact fingerprint and an event differ, with its value then in
 * `was` (absent for the ids: the record keeps their hashes); null when the same or unreadable.
 */
export function compactDifference(fp: string, event: unknown): { field: FingerprintField; was?: unknown } | null {
  const now = compactFingerprint(event);
  if (fp === now) return null;
  const a = compactFields(fp);
  const b = compactFields(now);
  if (!a || !b) return null;
  for (const [i, field] of FINGERPRINT_FIELDS.entries()) {
    if (a[i] !== b[i]) return field === "sessionId" || field === "stepId" ? { field } : { field, was: a[i] ?? null };
  }
  return null;
}
