/**
 * The operations of a simulated history. A history is plain JSON: a seed generates it, a shrunk
 * reproduction is a shorter one, and `--replay <file>` runs one exactly.
 */
import type { StageEvent } from "@creditmeter/shared";
import type { Plan } from "./model/prices.js";

export type Op =
  /** PUT /v1/accounts/:id (create, or change the plan). */
  | { op: "account"; accountId: string; plan: Plan }
  | { op: "cycle"; accountId: string; cycleId: string; credits: number; start: number; end: number }
  | { op: "pack"; accountId: string; packId: string; credits: number }
  | { op: "adjust"; accountId: string; adjustmentId: string; credits: number; reason: string }
  /** One call of the consumer's batch; `crash`: the consumer died before acknowledging, so the same batch is applied again. */
  | { op: "batch"; events: StageEvent[]; crash: boolean }
  /** The virtual clock moves forward. */
  | { op: "clock"; ms: number }
  /** `alert:dismiss` of a level. */
  | { op: "dismiss"; accountId: string; level: "low" | "critical" | "exhausted" }
  /** PUT …/sessions/:sessionId/budget (CONTRACT §10): `credits` null removes it. */
  | { op: "budget"; accountId: string; sessionId: string; credits: number | null }
  /** GET …/balance (does what time made due). */
  | { op: "read"; accountId: string }
  /** redis-server is killed (SIGKILL) and started again on its AOF. */
  | { op: "restart" };

export interface History {
  seed: number;
  /** Virtual time at the start (ms since the epoch). */
  start: number;
  holdTtlSeconds: number;
  ops: Op[];
}

/** A one-line description of an operation for failure reports. */
export function describeOp(op: Op): string {
  if (op.op === "batch") {
    const evs = op.events.map(
      (e) =>
        `${e.type.slice(6)} ${e.eventId} ${e.accountId}/${e.sessionId}/${e.stepId} ${e.action}${e.model ? ` ${e.model}` : ""}${e.seconds !== undefined ? ` ${e.seconds}s` : ""}${e.scenes !== undefined ? ` x${e.scenes}` : ""}`,
    );
    return `batch${op.crash ? " (crash, re-applied)" : ""} [${evs.join("; ")}]`;
  }
  return JSON.stringify(op);
}
