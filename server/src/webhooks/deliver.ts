import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { BlockedAddressError, guardedLookup, literalIsBlocked } from "./address-guard.js";

/** What one attempt came to: the receiver's status, or why there was none. */
export type AttemptResult = { ok: boolean; status: number | null; error: string | null };

export interface AttemptOptions {
  url: string;
  body: string;
  headers: Record<string, string>;
  /** Any 2xx within this many ms acknowledges; later, or none, is a failure (CONTRACT §7: 10 s). */
  timeoutMs: number;
  allowPrivate: boolean;
}

/**
 * One POST of a delivery. Redirects are not followed (a 3xx is a failure: following one would
 * let a public URL hand the request to a private address). The whole exchange, headers and
 * body, must end within the timeout; the answer's body is read and dropped.
 */
export function attemptDelivery(opts: AttemptOptions): Promise<AttemptResult> {
  const url = new URL(opts.url);
  if (!opts.allowPrivate && literalIsBlocked(url)) return Promise.resolve({ ok: false, status: null, error: "blocked_address" });
  const send = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: AttemptResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(result);
    };
    const req = send(
      url,
      {
        method: "POST",
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(opts.body), "user-agent": "creditmeter-webhooks/1", ...opts.headers },
        agent: false,
        ...(opts.allowPrivate ? {} : { lookup: guardedLookup() }),
      },
      (res) => {
        const status = res.statusCode ?? 0;
        res.on("data", () => undefined);
        res.on("end", () => finish({ ok: status >= 200 && status < 300, status, error: null }));
        res.on("error", () => finish({ ok: false, status, error: "response_aborted" }));
      },
    );
    const timer = setTimeout(() => finish({ ok: false, status: null, error: "timeout" }), opts.timeoutMs);
    req.on("error", (err: Error & { code?: string }) => {
      const error = err instanceof BlockedAddressError ? "blocked_address" : (err.code ?? "request_failed");
      finish({ ok: false, status: null, error });
    });
    req.end(opts.body);
  });
}
