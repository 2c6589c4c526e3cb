import type { ErrorRequestHandler, Request, RequestHandler, Response } from "express";
import { CreditmeterError, type ErrorBody, type ErrorCode } from "@creditmeter/shared";
import type { HttpLogger } from "./deps.js";

/** The one table from error codes to HTTP statuses (CONTRACT §4). */
export const STATUS_BY_CODE: Record<ErrorCode, number> = {
  invalid_input: 400,
  invalid_event: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  unknown_account: 404,
  conflict: 409,
  rate_limited: 429,
  internal: 500,
  // A read that needs the history archive while PostgreSQL cannot be reached (CONTRACT §11).
  unavailable: 503,
};

/** A contract error whose status is not the code's usual one (413 for an oversized body). */
export class HttpStatusError extends CreditmeterError {
  constructor(
    code: ErrorCode,
    message: string,
    field: string | undefined,
    readonly status: number,
  ) {
    super(code, message, field);
  }
}

/** The body every error answers with: `{ error: { code, message, details? } }`. */
export function errorBody(err: CreditmeterError): ErrorBody {
  const details =
    err.field === undefined && err.details === undefined ? undefined : { field: err.field, ...err.details };
  return { error: { code: err.code, message: err.message, ...(details ? { details } : {}) } };
}

/** Answers a contract error with its status and body. */
export function sendError(res: Response, err: CreditmeterError): void {
  const status = err instanceof HttpStatusError ? err.status : STATUS_BY_CODE[err.code];
  if (err.code === "unauthorized") res.setHeader("WWW-Authenticate", 'Bearer realm="creditmeter"');
  res.status(status).json(errorBody(err));
}

/** Any route nobody claimed: 404 `not_found`, in the same JSON shape as every other error. */
export const notFoundHandler: RequestHandler = (req, res) => {
  sendError(res, new CreditmeterError("not_found", `not_found: no route ${req.method} ${req.path}`));
};

function describeRequest(req: Request): object {
  return { method: req.method, path: req.path, ip: req.ip };
}

/**
 * The last middleware: contract errors keep their code; anything else is a bug or an outage,
 * logged with the request and answered as a bare 500 so internals never leak to clients.
 */
export function createErrorHandler(logger: HttpLogger | undefined): ErrorRequestHandler {
  return function handleError(err: unknown, req, res, next) {
    if (res.headersSent) return next(err);
    if (err instanceof CreditmeterError) {
      if (err.code === "internal") logger?.error({ err, ...describeRequest(req) }, "request failed");
      return sendError(res, err);
    }
    logger?.error({ err, ...describeRequest(req) }, "unexpected error");
    sendError(res, new CreditmeterError("internal", "internal: the server could not complete the request"));
  };
}
