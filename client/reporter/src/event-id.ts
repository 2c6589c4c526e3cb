import { createHash } from "node:crypto";
import type { StageEventType } from "@creditmeter/shared";

/** What identifies one report of one step: the same inputs always give the same event id. */
export interface EventIdInput {
  accountId: string;
  sessionId: string;
  stepId: string;
  type: StageEventType;
  /** Which try of the step this is: a new `started` after a denial is attempt + 1. */
  attempt: number;
  /** Tells apart the reports of one step that are distinct events (the progress value). */
  discriminator?: string;
}

// Bumping this tag changes every id: only ever do it with a new event version.
const DOMAIN = "creditmeter.stage-event.v1";

/**
 * Derives the event id (and BullMQ job id) of a report. The parts are hashed as a JSON array,
 * so no two different inputs share an encoding ("a.b"+"c" vs "a"+"b.c"), and the account is
 * part of it because job ids are queue-wide. The result is `<type>-<sha256 base64url>`:
 * readable in a queue browser, under 128 characters, never all digits and never with a ':'.
 */
export function stageEventId(input: EventIdInput): string {
  const parts = [DOMAIN, input.accountId, input.sessionId, input.stepId, input.type, input.attempt];
  if (input.discriminator !== undefined) parts.push(input.discriminator);
  const digest = createHash("sha256").update(JSON.stringify(parts)).digest("base64url");
  return `${input.type.slice("stage.".length)}-${digest}`;
}
