export { StageReporter, type PlannedSession } from "./stage-reporter.js";
export { RequestRefusedError, type ReporterHttpOptions } from "./http-api.js";
export { stageEventId, type EventIdInput } from "./event-id.js";
export { DecisionTimeoutError, EventRejectedError, ReporterClosedError, UnexpectedResultError } from "./errors.js";
export type { IoRedisClient, NodeRedisClient, ReporterConnection } from "./redis-connection.js";
export type {
  CompleteDetails,
  EventOutcome,
  SendOptions,
  StageReporterOptions,
  StartDecision,
  StartDetails,
} from "./reporter-options.js";
