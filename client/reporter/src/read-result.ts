import { EventResult } from "@creditmeter/shared";
import { UnexpectedResultError } from "./errors.js";

/** Checks the processor's return value against the contract's EventResult. */
export function parseResult(eventId: string, value: unknown): EventResult {
  let data = value;
  if (typeof value === "string") {
    try {
      data = JSON.parse(value);
    } catch {
      throw new UnexpectedResultError(eventId, "the return value is not JSON");
    }
  }
  const parsed = EventResult.safeParse(data);
  if (!parsed.success) throw new UnexpectedResultError(eventId, parsed.error.issues[0]?.message ?? "invalid");
  return parsed.data;
}

/** Whether a `stage.started` answer lets the step run: applied now, or granted the first time. */
export function isGranted(result: EventResult): boolean {
  if (result.status === "applied") return true;
  if (result.status !== "duplicate") return false; // denied, or ignored: the step had already ended
  return result.decision === "granted";
}
