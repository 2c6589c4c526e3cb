import { CreditmeterError, type AckError } from "@creditmeter/shared";

/**
 * A client may omit the ack callback or send something else in its place: answering must
 * then be a no-op, never a TypeError thrown inside a socket handler.
 */
export function safeAck<T>(candidate: unknown): (answer: T) => void {
  return typeof candidate === "function" ? (answer: T) => (candidate as (answer: T) => void)(answer) : () => undefined;
}

/** The `{ code, message }` an ack carries for a failure; unexpected errors become `internal`. */
export function ackError(err: unknown): AckError {
  if (err instanceof CreditmeterError) return { code: err.code, message: err.message };
  return { code: "internal", message: "internal: the request could not be completed" };
}
