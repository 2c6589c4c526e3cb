import type { RequestHandler } from "express";
import { CreditmeterError } from "@creditmeter/shared";
import { sendError } from "./errors.js";

/** Admits API requests until the process starts draining, and tells when the admitted ones are done. */
export interface DrainGate {
  /** Express middleware: counts each admitted request until its response ends; refuses new ones once closing. */
  middleware: RequestHandler;
  /** Stops admitting requests and resolves once every admitted one has been answered (by its handler, even when its client hung up). */
  close(): Promise<void>;
  /** Requests admitted and not yet answered. */
  inFlight(): number;
}

/** Methods that change nothing (RFC 9110 §9.2.1). */
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * A stop closes the realtime server, the /ops stream and the webhook outbox before the HTTP
 * server (the sockets ride on it). A request that changes the ledger in between (a grant, an
 * adjustment) would be applied with nobody left to push it, aggregate it or queue its webhooks.
 * So the API closes first: a request arriving after that is answered 503 `unavailable` (the load
 * balancer already sees /readyz at 503 and retries elsewhere), and the stop waits for the requests
 * already admitted before closing what they use.
 */
export function createDrainGate(): DrainGate {
  let open = true;
  let active = 0;
  let idle: (() => void) | null = null;
  const settle = (): void => {
    if (active === 0 && idle) idle();
  };
  return {
    middleware(req, res, next) {
      if (!open) {
        res.setHeader("Connection", "close");
        res.setHeader("Retry-After", "1");
        sendError(res, new CreditmeterError("unavailable", "unavailable: this server is stopping; try again"));
        return;
      }
      active += 1;
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        active -= 1;
        settle();
      };
      res.on("finish", finish);
      res.on("close", () => {
        // A read whose client is gone is let go: a file sent by express.static or res.sendFile is
        // then destroyed, never ended, and waiting for its end would hold every later stop. (The
        // time-due work a read may apply is applied again by the sweeper or the next read.)
        if (res.writableEnded || SAFE_METHODS.has(req.method)) return finish();
        // The client hung up while the handler still works (a grant waiting on its script): the
        // ledger change still happens, and what it pushes and queues must find them open. Done
        // when the handler answers (into the closed connection: no "finish" comes then).
        const end = res.end;
        res.end = ((...args: unknown[]): unknown => {
          finish();
          return Reflect.apply(end, res, args);
        }) as typeof res.end;
      });
      next();
    },
    close() {
      open = false;
      return new Promise<void>((resolve) => {
        idle = resolve;
        settle();
      });
    },
    inFlight: () => active,
  };
}
