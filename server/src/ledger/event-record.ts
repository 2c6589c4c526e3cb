// The idempotency record apply.lua keeps per eventId, read back (RedisLedger.readEventRecord) for
// GET /v1/accounts/:accountId/events/:eventId and the intake's conflict checks. Two layouts
// (lua/lib/idem.lua): the compact text of a generation hash's field, and the JSON of the key per
// eventId before it (read until those keys have expired). In the JSON, other fields may be added
// (a fingerprint, a deny reason): they are read when known and ignored otherwise.
import { z } from "zod";
import { DenyReason, EventResult } from "@creditmeter/shared";
import { compactDifference, fingerprintDifference, fingerprintValues, type FingerprintField } from "./fingerprint.js";

const n = z.number().int().nonnegative();

/** The record of the layout before: s status, c charged, h held, d decision, dr denyReason, av/su after. */
const EventRecord = z
  .object({
    s: z.enum(["applied", "denied", "ignored"]),
    c: n,
    h: n,
    d: z.enum(["granted", "denied"]).optional(),
    av: n.optional(),
    su: n.optional(),
    dr: DenyReason.optional(),
  })
  .loose();

/** lua/lib/idem.lua IDEM_CODES: status, decision and deny reason in one character. */
const CODES: Record<
  string,
  { status: "applied" | "denied" | "ignored"; decision?: "granted" | "denied"; denyReason?: DenyReason }
> = {
  a: { status: "applied" },
  g: { status: "applied", decision: "granted" },
  i: { status: "denied", decision: "denied", denyReason: "insufficient_credits" },
  b: { status: "denied", decision: "denied", denyReason: "session_budget" },
  x: { status: "ignored" },
};

// "<code><amount>,<av>,<su>,<raised>,<fingerprint>" (lua/lib/idem.lua idem_record_text).
const COMPACT = /^([a-z])(\d+),(\d+),(\d+),([^,]*),(.*)$/s;
// A short record, of an event that raised nothing: "<CODE><fingerprint's first 17><amount>,<av>,<su>
// <the fingerprint's rest, maybe without its trailing empty fields>", the numbers in base64url digits.
const SHORT = /^([A-Z])(.{17})([\w-]+),([\w-]+),([\w-]+)(.*)$/s;
const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** A whole number written in base64url digits, most significant first (lua/lib/idem.lua idem_b64). */
function fromBase64(digits: string): number {
  let n = 0;
  for (const d of digits) n = n * 64 + B64.indexOf(d);
  return n;
}

/** A record's parts, whichever of the two compact forms it has; null when unreadable. */
function compactParts(
  raw: string,
): { code: string; amount: number; available: number; sessionUsed: number; raised: string; fp: string } | null {
  const s = SHORT.exec(raw);
  if (s) {
    return {
      code: (s[1] ?? "").toLowerCase(),
      amount: fromBase64(s[3] ?? ""),
      available: fromBase64(s[4] ?? ""),
      sessionUsed: fromBase64(s[5] ?? ""),
      raised: "",
      fp: wholeFingerprint(`${s[2] ?? ""}${s[6] ?? ""}`),
    };
  }
  const m = COMPACT.exec(raw);
  if (!m) return null;
  return {
    code: m[1] ?? "",
    amount: Number(m[2]),
    available: Number(m[3]),
    sessionUsed: Number(m[4]),
    raised: m[5] ?? "",
    fp: m[6] ?? "",
  };
}

/**
 * A stored compact fingerprint with the trailing empty fields a short record leaves out put back:
 * fewer than the 4 commas after the hashes means they were left out (a model, the only field that
 * may hold commas, is then empty).
 */
export function wholeFingerprint(stored: string): string {
  const commas = stored.split(",").length - 1;
  return commas < 4 ? stored + ",".repeat(4 - commas) : stored;
}

function compactResult(raw: string): EventResult | null {
  const m = compactParts(raw);
  const code = m && CODES[m.code];
  if (!m || !code) return null;
  const amount = m.amount;
  const result = {
    status: code.status,
    charged: m.code === "g" ? 0 : amount,
    held: m.code === "g" ? amount : 0,
    available: m.available,
    sessionUsed: m.sessionUsed,
    ...(code.decision ? { decision: code.decision } : {}),
    ...(code.denyReason ? { denyReason: code.denyReason } : {}),
  };
  return EventResult.loose().parse(result);
}

/**
 * The processor's result an idempotency record stands for, or null when the record is missing or
 * unreadable. Records written before `av`/`su` were kept answer 0 for them (documented in docs/api-events.md).
 */
export function resultFromRecord(raw: string | null): EventResult | null {
  if (raw === null) return null;
  if (!raw.startsWith("{")) return compactResult(raw);
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return null;
  }
  const parsed = EventRecord.safeParse(json);
  if (!parsed.success) return null;
  const r = parsed.data;
  const result = {
    status: r.s,
    charged: r.c,
    held: r.h,
    available: r.av ?? 0,
    sessionUsed: r.su ?? 0,
    ...(r.d ? { decision: r.d } : {}),
    ...(r.dr ? { denyReason: r.dr } : {}),
  };
  return EventResult.loose().parse(result);
}

const RecordFingerprint = z.object({ f: z.array(z.unknown()) }).loose();

/** A record's fingerprint: the compact text, or (the layout before) the array of values. */
export type StoredFingerprint = { compact: string } | { values: unknown[] };

/** The fingerprint a record keeps, or null when it has none or is unreadable. */
export function fingerprintFromRecord(raw: string | null): StoredFingerprint | null {
  if (raw === null) return null;
  if (!raw.startsWith("{")) {
    const m = compactParts(raw);
    return m ? { compact: m.fp } : null;
  }
  try {
    const parsed = RecordFingerprint.safeParse(JSON.parse(raw));
    return parsed.success ? { values: parsed.data.f } : null;
  } catch {
    return null;
  }
}

/**
 * The first field where a record's fingerprint and an event differ, with its value then in `was`
 * (absent when the record keeps only a hash of it); null when they are the same.
 */
export function recordDifference(
  was: StoredFingerprint,
  event: unknown,
): { field: FingerprintField; was?: unknown } | null {
  if ("compact" in was) return compactDifference(was.compact, event);
  return fingerprintDifference(was.values, fingerprintValues(event));
}

/** Whether a record says the webhooks its event raised are queued (mark-webhooks-2.lua). */
export function webhooksQueued(raw: string | null): boolean {
  if (raw === null) return false;
  if (raw.startsWith("{")) return /"wq":1[,}]/.test(raw);
  return /;q$/.test(compactParts(raw)?.raised ?? "");
}
