import express, { type RequestHandler } from "express";
import { z } from "zod";
import { AccountId, CreditmeterError, SessionId, fromZodError, type ErrorCode } from "@creditmeter/shared";
import { HttpStatusError } from "./errors.js";

type InputCode = Extract<ErrorCode, "invalid_input" | "invalid_event">;

/** Path parameters, parsed so that a bad id is a 400 naming `accountId` or `sessionId`. */
export const AccountParams = z.object({ accountId: AccountId });
export const SessionParams = z.object({ accountId: AccountId, sessionId: SessionId });

/** Parses untrusted input or throws a CreditmeterError of `code` naming the first bad field. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, code: InputCode = "invalid_input"): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw fromZodError(code, parsed.error);
  return parsed.data;
}

/** Checks the body is a JSON object before the schema names fields inside it. */
export function requireJsonObject(body: unknown, code: InputCode = "invalid_input"): object {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new CreditmeterError(code, `${code}: body: must be a JSON object (Content-Type: application/json)`, "body");
  }
  return body;
}

/** Parses a request body with a schema, naming the field on failure. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown, code: InputCode = "invalid_input"): z.output<S> {
  return parseInput(schema, requireJsonObject(body, code), code);
}

function isBodyParserError(err: unknown): err is Error & { type: string; status: number } {
  return err instanceof Error && typeof Reflect.get(err, "type") === "string" && typeof Reflect.get(err, "status") === "number";
}

/** Turns express.json's failures into contract errors: malformed 400, too large 413. */
function toBodyError(err: unknown, code: InputCode, limitBytes: number): unknown {
  if (!isBodyParserError(err)) return err;
  if (err.type === "entity.too.large") {
    return new HttpStatusError(code, `${code}: body: larger than the limit of ${limitBytes} bytes`, "body", 413);
  }
  if (err.type === "entity.parse.failed") return new CreditmeterError(code, `${code}: body: malformed JSON`, "body");
  const status = err.status >= 400 && err.status < 500 ? err.status : 400;
  return new HttpStatusError(code, `${code}: body: ${err.message}`, "body", status);
}

/**
 * A JSON body parser limited to `limitBytes` whose failures carry `code`
 * (`invalid_event` on POST /v1/events, `invalid_input` elsewhere).
 */
export function jsonBody(limitBytes: number, code: InputCode = "invalid_input"): RequestHandler {
  const parse = express.json({ limit: limitBytes, strict: true });
  return function parseJsonBody(req, res, next) {
    parse(req, res, (err?: unknown) => {
      if (err === undefined || err === null) return next();
      next(toBodyError(err, code, limitBytes));
    });
  };
}
