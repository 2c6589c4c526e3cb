// The idempotency record apply.lua keeps per eventId (`<prefix>evt:<eventId>`), read back for
// GET /v1/accounts/:accountId/events/:eventId. Other fields may be added to the record (a
// fingerprint, a deny reason): they are read when known and ignored otherwise.
import { z } from "zod";
import { DenyReason, EventResult } from "@creditmeter/shared";

const n = z.number().int().nonnegative();

/** The record as lib/apply.lua writes it: s status, c charged, h held, d decision, dr denyReason, av/su after. */
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

/**
 * The processor's result an idempotency record stands for, or null when the record is missing or
 * unreadable. Records written before `av`/`su` were kept answer 0 for them (documented in docs/api-events.md).
 */
export function resultFromRecord(raw: string | null): EventResult | null {
  if (raw === null) return null;
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

/** The fingerprint a record keeps (a JSON array, event-batch.ts fingerprint), or null when it has none or is unreadable. */
export function fingerprintFromRecord(raw: string | null): unknown[] | null {
  if (raw === null) return null;
  try {
    const parsed = RecordFingerprint.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data.f : null;
  } catch {
    return null;
  }
}
