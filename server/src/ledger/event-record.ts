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

function compactResult(raw: string): EventResult | null {
  const m = COMPACT.exec(raw);
  const code = m && CODES[m[1] ?? ""];
  if (!m || !code) return null;
  const amount = Number(m[2]);
  const result = {
    status: code.status,
    charged: m[1] === "g" ? 0 : amount,
    held: m[1] === "g" ? amount : 0,
    available: Number(m[3]),
    sessionUsed: Number(m[4]),
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
    const m = COMPACT.exec(raw);
    return m ? { compact: m[6] ?? "" } : null;
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
  return /;q$/.test(COMPACT.exec(raw)?.[5] ?? "");
}
