import { CreditmeterError, type ErrorCode } from "@creditmeter/shared";

/** The codes the metering server fails a job with (its failed reason starts with one). */
const REJECTION_CODES = ["invalid_event", "unknown_account"] as const satisfies readonly ErrorCode[];

/** The metering server refused an event: the job failed and the ledger is untouched. */
export class EventRejectedError extends CreditmeterError {
  constructor(
    readonly eventId: string,
    /** The job's failed reason as the server wrote it, e.g. `unknown_account: acme`. */
    readonly reason: string,
  ) {
    const code = REJECTION_CODES.find((c) => reason.startsWith(c)) ?? "internal";
    super(code, reason);
    this.name = "EventRejectedError";
  }
}

/** No answer within the reporter's decisionTimeoutMs; the event is still queued. */
export class DecisionTimeoutError extends Error {
  readonly code = "decision_timeout";
  constructor(
    readonly eventId: string,
    readonly timeoutMs: number,
  ) {
    super(
      `no answer for event ${eventId} within ${timeoutMs} ms: the event stays queued and will still be ` +
        "applied; repeat the same call (same stepId and attempt) to learn its outcome",
    );
    this.name = "DecisionTimeoutError";
  }
}

/** The server answered with something that is not a contract EventResult. */
export class UnexpectedResultError extends Error {
  constructor(
    readonly eventId: string,
    detail: string,
  ) {
    super(`unexpected result for event ${eventId}: ${detail}`);
    this.name = "UnexpectedResultError";
  }
}

/** The reporter was closed while a call was still waiting for its answer. */
export class ReporterClosedError extends Error {
  constructor(readonly eventId: string) {
    super(`the reporter was closed while waiting for event ${eventId}; the event stays queued`);
    this.name = "ReporterClosedError";
  }
}
