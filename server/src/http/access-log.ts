import { randomUUID } from "node:crypto";
import type { RequestHandler } from "express";
import type { Logger } from "pino";
import { pinoHttp } from "pino-http";
import { SANE_REQUEST_ID } from "../metering/job-request-id.js";

/** The request id of a request: the caller's X-Request-Id if short and plain, else a new UUID. */
export function requestId(header: string | string[] | undefined): string {
  return typeof header === "string" && SANE_REQUEST_ID.test(header) ? header : randomUUID();
}

/**
 * The access log (pino-http): one JSON line per request with its `reqId`, echoed to the caller
 * as X-Request-Id so a client, the load balancer and the server's logs name the same request.
 */
export function accessLog(logger: Logger): RequestHandler {
  return pinoHttp({
    logger,
    genReqId(req, res) {
      const id = requestId(req.headers["x-request-id"]);
      res.setHeader("X-Request-Id", id);
      return id;
    },
    // Never log bearer tokens or API keys.
    redact: ["req.headers.authorization", "req.headers.cookie"],
    customLogLevel: (_req, res, err) =>
      err || res.statusCode >= 500 ? "error" : res.statusCode >= 400 ? "warn" : "info",
  });
}
