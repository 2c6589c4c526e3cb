import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import type { Socket } from "socket.io";
import type { AppRedis } from "../redis/redis-client.js";
import { AccountId, type Role } from "@creditmeter/shared";
import type { AuthVerifier } from "../auth/principal.js";
import { canReadAccount } from "../auth/permissions.js";
import type { RealtimeLogger, SocketData } from "./types.js";
import { clientAddress, type TrustProxy } from "../http/client-address.js";

type Next = (err?: Error) => void;
type Middleware = (socket: Socket, next: Next) => void;

/**
 * Connections per IP per minute, one budget shared by every node through Redis; a per-process
 * memory limiter takes over if Redis fails, rather than letting every connection through.
 */
export function connectionRateLimit(redis: AppRedis, keyPrefix: string, perMinute: number, logger: RealtimeLogger, trustProxy: TrustProxy = false): Middleware {
  const base = { keyPrefix: `${keyPrefix}:rl:ws`, points: perMinute, duration: 60 };
  const limiter: RateLimiterAbstract = new RateLimiterRedis({ ...base, storeClient: redis, useRedisPackage: true, insuranceLimiter: new RateLimiterMemory(base) });
  return function limitConnections(socket, next) {
    // As express's req.ip: behind a trusted load balancer, the address the balancer saw.
    const ip = clientAddress(socket.request, trustProxy);
    limiter.consume(ip).then(
      () => next(),
      (rejection: unknown) => {
        if (rejection instanceof RateLimiterRes) return next(new Error("rate_limited"));
        logger.warn({ err: rejection, ip }, "connection rate limiter unavailable");
        next();
      },
    );
  };
}

/**
 * Verifies `handshake.auth.token` and decides which account the socket follows. Any token
 * problem is `unauthorized` (no detail: a probing client learns nothing); a valid token of a
 * role the namespace does not serve is `forbidden`.
 */
export function authenticate(verifier: AuthVerifier, roles: readonly Role[], opts: { scopedKeys: boolean } = { scopedKeys: true }): Middleware {
  return function checkToken(socket, next) {
    const auth: unknown = socket.handshake.auth;
    const token = typeof auth === "object" && auth !== null && "token" in auth ? auth.token : undefined;
    if (typeof token !== "string") return next(new Error("unauthorized"));
    verifier.verify(token).then(
      (principal) => {
        if (!roles.includes(principal.role)) return next(new Error("forbidden"));
        // A key scoped to one account never reaches a namespace that spans every account.
        if (principal.accountScope !== undefined && !opts.scopedKeys) return next(new Error("forbidden"));
        // An ops panel names the account it follows in the handshake (`auth.accountId`).
        const requested = typeof auth === "object" && auth !== null && "accountId" in auth ? AccountId.safeParse(auth.accountId) : null;
        if (requested && !requested.success) return next(new Error("invalid_input"));
        const accountId = principal.role === "user" ? principal.accountId : (requested?.data ?? principal.accountScope ?? null);
        if (accountId !== null && !canReadAccount(principal, accountId)) return next(new Error("forbidden"));
        const data: SocketData = { principal, accountId, watched: new Set() };
        socket.data = data;
        next();
      },
      () => next(new Error("unauthorized")),
    );
  };
}
