import { z } from "zod";
import { AccountId, ActionId, IsoTime, SessionId, Stage, StepId } from "./ids.js";
import { BudgetBody, type Balance, type DenyReason, type SessionSnapshot } from "./api.js";
import { AlertLevel } from "./thresholds.js";

/** `session:watch` payload (CONTRACT §6); `accountId` is honoured for ops tokens only. */
export const WatchRequest = z.strictObject({ sessionId: SessionId, accountId: AccountId.optional() });
export type WatchRequest = z.infer<typeof WatchRequest>;
export const UnwatchRequest = z.strictObject({ sessionId: SessionId, accountId: AccountId.optional() });
export type UnwatchRequest = z.infer<typeof UnwatchRequest>;
/** (v1.1) `session:budget` payload (CONTRACT §6, §10): `credits` null removes it; `accountId` for ops tokens only. */
export const BudgetRequest = z.strictObject({
  sessionId: SessionId,
  credits: BudgetBody.shape.credits,
  accountId: AccountId.optional(),
});
export type BudgetRequest = z.infer<typeof BudgetRequest>;
export const DismissRequest = z.strictObject({ level: AlertLevel });
export type DismissRequest = z.infer<typeof DismissRequest>;

export interface AckError {
  code: string;
  message: string;
}
export type WatchAck = { ok: true; session: SessionSnapshot } | { ok: false; error: AckError };
export type OkAck = { ok: true } | { ok: false; error: AckError };

/** The latest charge of a session, carried by `session:update`. */
export interface LastCharge {
  eventId: string;
  action: ActionId;
  amount: number;
  at: string;
}
export type SessionUpdate = SessionSnapshot & { last: LastCharge | null };

export interface BalanceAlert {
  accountId: string;
  level: AlertLevel;
  threshold: number;
  available: number;
  at: string;
}

export const StageProgress = z.object({
  accountId: AccountId,
  sessionId: SessionId,
  stepId: StepId,
  action: ActionId,
  stage: Stage,
  progress: z.number(),
  at: IsoTime,
});
export type StageProgress = z.infer<typeof StageProgress>;

export interface StageDenied {
  accountId: string;
  sessionId: string;
  stepId: string;
  action: ActionId;
  required: number;
  available: number;
  /** (v1.1) Why the hold was refused (CONTRACT §6). */
  reason: DenyReason;
  at: string;
}

/** Events the server sends on the default namespace. */
export interface ServerToClientEvents {
  "session:update": (update: SessionUpdate) => void;
  "balance:update": (balance: Balance) => void;
  "balance:alert": (alert: BalanceAlert) => void;
  "stage:progress": (progress: StageProgress) => void;
  "stage:denied": (denied: StageDenied) => void;
  /** (v1.1) Sent just before the server disconnects a socket whose token expired (CONTRACT §5/§6). */
  "auth:expired": (payload: Record<string, never>) => void;
}

/** Events a panel sends on the default namespace; acks are the trailing callback. */
export interface ClientToServerEvents {
  "session:watch": (request: WatchRequest, ack: (answer: WatchAck) => void) => void;
  "session:unwatch": (request: UnwatchRequest, ack?: (answer: OkAck) => void) => void;
  "alert:dismiss": (request: DismissRequest, ack: (answer: OkAck) => void) => void;
  /** (v1.1) Sets or removes the session's budget; the ack carries the session snapshot after it. */
  "session:budget": (request: BudgetRequest, ack: (answer: WatchAck) => void) => void;
}

/** One applied charge as `ops:charges` carries it, in batches. */
export interface OpsCharge {
  accountId: string;
  sessionId: string;
  action: ActionId;
  stage: Stage;
  model: string | null;
  amount: number;
  at: string;
}

/** `ops:stats`, about once a second (documented in docs/protocol.md). */
export interface OpsStats {
  at: string;
  /** Credits charged in the last 60 seconds. */
  spendPerMinute: number;
  /** Charges applied per second, averaged over the last 10 seconds. */
  chargesPerSecond: number;
  /** Sessions with a charge or progress in the last 5 minutes. */
  activeSessions: number;
  queue: { waiting: number; active: number; failed: number; lagMs: number | null };
  topSessions: { accountId: string; sessionId: string; credits: number }[];
  topAccounts: { accountId: string; credits: number }[];
  byAction: Record<string, number>;
  byModel: Record<string, number>;
}

export type OpsAlertKind = "low_balance" | "denied" | "rejected";
export interface OpsAlert {
  kind: OpsAlertKind;
  accountId: string | null;
  sessionId: string | null;
  message: string;
  at: string;
}

/** Events the server sends on `/ops`. */
export interface OpsServerToClientEvents {
  "ops:charges": (batch: OpsCharge[]) => void;
  "ops:stats": (stats: OpsStats) => void;
  "ops:alert": (alert: OpsAlert) => void;
  /** (v1.1) As on the default namespace: the token expired, the socket is about to close. */
  "auth:expired": (payload: Record<string, never>) => void;
}
