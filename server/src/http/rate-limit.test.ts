import { randomUUID } from "node:crypto";
import { pino } from "pino";
import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ErrorBody } from "@creditmeter/shared";
import type { HttpLogger, RateLimitRedisClient } from "./deps.js";
import { call, startTestApp, testConfig, type TestApp } from "./test-harness.test-support.js";

const redis = createClient({ url: inject("redisUrl") });
// The real clients the server passes in must fit the narrow interfaces (a compile-time check).
const redisFits: RateLimitRedisClient = redis;
const pinoFits: HttpLogger = pino({ level: "silent" });

beforeAll(async () => {
  await redis.connect();
});
afterAll(async () => {
  await redis.close();
});

async function expectLimited(app: TestApp, path: string): Promise<void> {
  const res = await call(app, "GET", path);
  expect(res.status).toBe(429);
  expect(ErrorBody.parse(res.body).error.code).toBe("rate_limited");
  expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
}

describe("per-IP rate limit", () => {
  it("shares one budget through Redis across app instances, and answers 429 rate_limited past it", async () => {
    const config = testConfig({ requestsPerIpPerMinute: 3, keyPrefix: `t-${randomUUID()}` });
    const first = await startTestApp({ config, rateLimitRedis: redisFits, logger: pinoFits });
    const second = await startTestApp({ config, rateLimitRedis: redisFits, logger: pinoFits });
    try {
      expect((await call(first, "GET", "/v1/pricing")).status).toBe(200);
      expect((await call(second, "GET", "/v1/pricing")).status).toBe(200);
      expect((await call(first, "GET", "/v1/pricing")).status).toBe(200);
      await expectLimited(second, "/v1/pricing");
      // The budget lives in Redis under the configured prefix, not in either process.
      const keys = await redis.keys(`${config.keyPrefix}:rl:http:*`);
      expect(keys).toHaveLength(1);
      // Probes are never throttled: a load balancer must always learn the truth.
      expect((await call(first, "GET", "/healthz")).status).toBe(200);
      expect((await call(first, "GET", "/readyz")).status).toBe(200);
    } finally {
      await first.close();
      await second.close();
      const leftovers = await redis.keys(`${config.keyPrefix}:*`);
      if (leftovers.length > 0) await redis.del(leftovers);
    }
  });

  it("limits per process in memory when no Redis client is given", async () => {
    const app = await startTestApp({ config: testConfig({ requestsPerIpPerMinute: 2 }) });
    try {
      expect((await call(app, "GET", "/v1/pricing")).status).toBe(200);
      expect((await call(app, "GET", "/nope")).status).toBe(404);
      await expectLimited(app, "/v1/pricing");
    } finally {
      await app.close();
    }
  });
});
