// An event's fingerprint (CONTRACT §2 v1.1): what its idempotency record keeps of it, so that a
// reused eventId with another body is told from a redelivery. Records keep it compact (lua/lib/idem.lua);
// records of the layout before keep a JSON array of the values.
import { createHash } from "node:crypto";

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
  const get = (f: string): unknown => (typeof event === "object" && event !== null ? Reflect.get(event, f) : undefined);
  return FINGERPRINT_FIELDS.map((f, i) => {
    const v = get(f) ?? null;
    return i === SCENES && v === 1 ? null : v;
  });
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

function sha1(text: string): string {
  return createHash("sha1").update(text).digest("hex");
}

/**
 * The compact fingerprint a record keeps (lua/lib/idem.lua): "<type code><12 hex of SHA-1 of the
 * sessionId><12 hex of SHA-1 of sessionId/stepId>,<action>,<scenes>,<seconds>,<model>" ("" where
 * absent; the model last, being free text). Ids are long and kept only as hashes: a record tells
 * a reused eventId under another session or step (a miss needs a 48-bit collision between the two
 * ids compared), not which id it had. The Lua compares these texts, and hashes ids of older records the same way.
 */
export function compactFingerprint(event: unknown): string {
  const [type, sid, step, action, model, scenes, seconds] = fingerprintValues(event).map((v) =>
    v === null ? "" : String(v),
  );
  const s = sid ?? "";
  return `${TYPE_CODES[type ?? ""] ?? "?"}${sha1(s).slice(0, 12)}${sha1(`${s}/${step ?? ""}`).slice(0, 12)},${action ?? ""},${scenes ?? ""},${seconds ?? ""},${model ?? ""}`;
}

/**
 * The fingerprint argument of apply-events-7n: the step's field hash (28 hex of SHA-1 of
 * "<sessionId>/<stepId>", 112 bits: the steps of an account never collide), then compactFingerprint.
 */
export function fingerprintArgument(event: { sessionId: string; stepId: string }): string {
  return sha1(`${event.sessionId}/${event.stepId}`).slice(0, 28) + compactFingerprint(event);
}

/** The fields of a compact fingerprint, in FINGERPRINT_FIELDS order (ids as their hashes); null when unreadable. */
function compactFields(fp: string): (string | number | null)[] | null {
  const m = /^([spcf])([0-9a-f]{12})([0-9a-f]{12}),([^,]*),([^,]*),([^,]*),(.*)$/s.exec(fp);
  if (!m) return null;
  const num = (v: string | undefined) => (v ? Number(v) : null);
  return [TYPES.get(m[1] ?? "") ?? null, m[2] ?? "", m[3] ?? "", m[4] ?? "", m[7] ? m[7] : null, num(m[5]), num(m[6])];
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
