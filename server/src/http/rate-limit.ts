import type { RequestHandler } from "express";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import { CreditmeterError } from "@creditmeter/shared";
import type { HttpLogger, RateLimitRedisClient } from "./deps.js";

export interface RateLimitOptions {
  requestsPerMinute: number;
  /** Namespaces the Redis keys: `<keyPrefix>:rl:http:<ip>`. */
  keyPrefix: string;
  redis?: RateLimitRedisClient;
  logger?: HttpLogger;
}

/**
 * One budget per IP shared by every process when Redis is given. If Redis fails, a per-process
 * memory limiter takes over (the insurance limiter) rather than letting every request through
 * or refusing them all.
 */
function createLimiter(opts: RateLimitOptions): RateLimiterAbstract {
  const base = { keyPrefix: `${opts.keyPrefix}:rl:http`, points: opts.requestsPerMinute, duration: 60 };
  const memory = new RateLimiterMemory(base);
  if (!opts.redis) return memory;
  // useRedisPackage: the client is node-redis (v4+ API: eval(script, { keys, arguments })).
  return new RateLimiterRedis({ ...base, storeClient: opts.redis, useRedisPackage: true, insuranceLimiter: memory });
}

/** Answers 429 `rate_limited` with Retry-After once an IP spent its requests for the minute. */
export function rateLimit(opts: RateLimitOptions): RequestHandler {
  const limiter = createLimiter(opts);
  return async function limitPerIp(req, res, next) {
    const key = req.ip ?? req.socket.remoteAddress ?? "unknown";
    try {
      await limiter.consume(key);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) {
        // Both stores failed: serving beats refusing everyone, and the outage is logged.
        opts.logger?.warn({ err: rejection, ip: key }, "rate limiter unavailable");
        return next();
      }
      res.setHeader("Retry-After", String(Math.max(1, Math.ceil(rejection.msBeforeNext / 1000))));
      const message = `rate_limited: more than ${opts.requestsPerMinute} requests per minute from this address`;
      throw new CreditmeterError("rate_limited", message);
    }
    next();
  };
}
