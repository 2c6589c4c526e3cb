import type { z } from "zod";

/** The error codes of the wire contract (CONTRACT §4), plus the queue's rejection reasons. */
export const ERROR_CODES = [
  "invalid_input",
  "invalid_event",
  "unknown_account",
  "unauthorized",
  "forbidden",
  "not_found",
  "conflict",
  "rate_limited",
  "unavailable",
  "internal",
] as const;

/** One of ERROR_CODES. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Whether a code read off the wire is one of the contract's. */
export function isErrorCode(code: string): code is ErrorCode {
  return (ERROR_CODES as readonly string[]).includes(code);
}

/** An expected failure: carried as a value, mapped to a status at the edge. */
export class CreditmeterError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
    /** More of `details` beside `field` (e.g. `currentCycleId` of a refused older cycle). */
    readonly details?: Readonly<Record<string, string>>,
  ) {
    super(message);
    this.name = "CreditmeterError";
  }
}

/** The dotted path of a zod issue, or "(root)" for the value itself. */
export function issuePath(issue: z.core.$ZodIssue): string {
  return issue.path.length === 0 ? "(root)" : issue.path.map(String).join(".");
}

/** Turns the first zod issue into a CreditmeterError naming the field. */
export function fromZodError(code: ErrorCode, error: z.ZodError): CreditmeterError {
  const issue = error.issues[0];
  if (!issue) return new CreditmeterError(code, `${code}: invalid value`);
  // A key a client made up may be empty, blank or odd: quote those so the message still shows it.
  const name = (key: string): string => (/^[A-Za-z0-9_.-]+$/.test(key) ? key : JSON.stringify(key));
  const field = issue.code === "unrecognized_keys" ? issue.keys.map(name).join(", ") : issuePath(issue);
  const what = issue.code === "unrecognized_keys" ? "unknown field" : issue.message;
  return new CreditmeterError(code, `${code}: ${field}: ${what}`, field);
}
