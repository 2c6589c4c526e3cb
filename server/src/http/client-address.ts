import type { IncomingMessage } from "node:http";
import proxyaddr from "proxy-addr";

/** Express's `trust proxy` setting (CONTRACT §8 v1.1 `CREDITMETER_TRUST_PROXY`): off, a hop count, or addresses. */
export type TrustProxy = boolean | number | string[];

/**
 * The client address of a request the way express's `req.ip` computes it under `trust`, for
 * callers that have no express request (the Socket.IO handshake): behind a trusted load
 * balancer it is the address the balancer saw, not the balancer's own.
 */
export function clientAddress(req: IncomingMessage, trust: TrustProxy): string {
  return proxyaddr(req, compileTrust(trust));
}

function compileTrust(trust: TrustProxy): (addr: string, i: number) => boolean {
  if (trust === true) return () => true;
  if (trust === false) return () => false;
  if (typeof trust === "number") return (_addr, i) => i < trust;
  return proxyaddr.compile(trust);
}

