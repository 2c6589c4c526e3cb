import { z } from "zod";
import { ActionId, Stage, type OpsAlert, type OpsCharge, type OpsStats } from "@creditmeter/shared";

// What arrives on /ops and from /v1/ops/failed is parsed before the page uses it.

export const OpsChargeSchema = z.object({
  accountId: z.string(),
  sessionId: z.string(),
  action: ActionId,
  stage: Stage,
  model: z.string().nullable(),
  amount: z.number().int(),
  at: z.string(),
}) satisfies z.ZodType<OpsCharge>;

export const OpsChargeBatch = z.array(OpsChargeSchema);

export const OpsStatsSchema = z.object({
  at: z.string(),
  spendPerMinute: z.number(),
  chargesPerSecond: z.number(),
  activeSessions: z.number(),
  queue: z.object({ waiting: z.number(), active: z.number(), failed: z.number(), lagMs: z.number().nullable() }),
  topSessions: z.array(z.object({ accountId: z.string(), sessionId: z.string(), credits: z.number() })),
  topAccounts: z.array(z.object({ accountId: z.string(), credits: z.number() })),
  byAction: z.record(z.string(), z.number()),
  byModel: z.record(z.string(), z.number()),
}) satisfies z.ZodType<OpsStats>;

export const OpsAlertSchema = z.object({
  kind: z.enum(["low_balance", "denied", "rejected"]),
  accountId: z.string().nullable(),
  sessionId: z.string().nullable(),
  message: z.string(),
  at: z.string(),
}) satisfies z.ZodType<OpsAlert>;

export const FailedJobSchema = z.object({
  jobId: z.string(),
  name: z.string(),
  failedReason: z.string(),
  attemptsMade: z.number(),
  failedAt: z.string().nullable(),
  queuedAt: z.string(),
  eventId: z.string().nullable(),
  accountId: z.string().nullable(),
  sessionId: z.string().nullable(),
  data: z.unknown(),
});
export type FailedJob = z.infer<typeof FailedJobSchema>;

export const FailedPageSchema = z.object({ total: z.number(), offset: z.number(), jobs: z.array(FailedJobSchema) });
export type FailedPage = z.infer<typeof FailedPageSchema>;
