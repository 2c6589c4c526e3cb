import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, type RedisClientType } from "redis";
import { startRedis, type TestRedis } from "../support/redis-server.js";
import { lazyExpiryAdvice } from "../../server/src/app/redis-settings.js";

/** A connected client of a private redis-server started with `args`, and how to stop both. */
async function redisWith(args: string[]): Promise<{ redis: RedisClientType; server: TestRedis }> {
  const server = await startRedis(args);
  const redis: RedisClientType = createClient({ url: server.url });
  await redis.connect();
  return { redis, server };
}

describe("lazyExpiryAdvice", () => {
  const started: { redis: RedisClientType; server: TestRedis }[] = [];
  let plain: RedisClientType;
  let noConfig: RedisClientType;
  beforeAll(async () => {
    started.push(await redisWith([]), await redisWith(["--rename-command", "CONFIG", ""]));
    [plain, noConfig] = started.map((s) => s.redis) as [RedisClientType, RedisClientType];
  });
  afterAll(async () => {
    for (const s of started) {
      await s.redis.close();
      await s.server.stop();
    }
  });

  it("advises lazy expiry when Redis frees expired keys in its main thread, and nothing once it is set", async () => {
    await plain.configSet("lazyfree-lazy-expire", "no");
    expect(await lazyExpiryAdvice(plain)).toMatch(/set lazyfree-lazy-expire yes/);
    await plain.configSet("lazyfree-lazy-expire", "yes");
    expect(await lazyExpiryAdvice(plain)).toBeNull();
  });

  it("says nothing when CONFIG is not available (managed Redis renames it away)", async () => {
    await expect(noConfig.configGet("lazyfree-lazy-expire")).rejects.toThrow();
    expect(await lazyExpiryAdvice(noConfig)).toBeNull();
  });
});
