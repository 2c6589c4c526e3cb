import { z } from "zod";
import { ActionId, AlertLevel, Balance, SessionSnapshot, StageProgress } from "@creditmeter/shared";

// What the server sends is parsed like any other input: a malformed frame is dropped, never
// rendered, and never moves a seq gate forward.

const Credits = z.number().int().nonnegative();

export const SessionUpdatePayload = SessionSnapshot.extend({
  last: z.object({ eventId: z.string(), action: ActionId, amount: Credits, at: z.string() }).nullable(),
});
export const BalancePayload = Balance;
export const AlertPayload = z.object({ accountId: z.string(), level: AlertLevel, threshold: Credits, available: Credits, at: z.string() });
export const ProgressPayload = StageProgress;
export const DeniedPayload = z.object({
  accountId: z.string(),
  sessionId: z.string(),
  stepId: z.string(),
  action: ActionId,
  required: Credits,
  available: Credits,
  at: z.string(),
});
export const WatchAckPayload = z.union([
  z.object({ ok: z.literal(true), session: SessionSnapshot }),
  z.object({ ok: z.literal(false), error: z.object({ code: z.string(), message: z.string() }) }),
]);
export const OkAckPayload = z.union([
  z.object({ ok: z.literal(true) }),
  z.object({ ok: z.literal(false), error: z.object({ code: z.string(), message: z.string() }) }),
]);
