import { randomUUID } from "node:crypto";
import { createClient, type RedisClientType } from "redis";
import { afterAll, beforeAll, inject } from "vitest";
import { DEFAULT_PRICE_BOOK, type StageEvent } from "@creditmeter/shared";
import { RedisLedger, type LedgerOptions } from "@creditmeter/server";

/** A connected node-redis client on the run's private redis-server. */
export async function testRedis(): Promise<RedisClientType> {
  const client: RedisClientType = createClient({ url: inject("redisUrl") });
  client.on("error", () => undefined);
  await client.connect();
  return client;
}

/**
 * A testRedis() client for the enclosing describe block: connected before its tests, closed after.
 * Returns a getter, as the client exists only once beforeAll has run.
 */
export function useTestRedis(): () => RedisClientType {
  let redis: RedisClientType | undefined;
  beforeAll(async () => {
    redis = await testRedis();
  });
  afterAll(() => redis?.close());
  return () => {
    if (!redis) throw new Error("useTestRedis: no client outside the describe block's tests");
    return redis;
  };
}

/** The ledger options tests start from: the default price book, 1 h holds, 30-day idempotency, a 400-day trail. */
export const LEDGER_DEFAULTS = {
  priceBook: DEFAULT_PRICE_BOOK,
  holdTtlSeconds: 3600,
  idempotencyRetentionSeconds: 30 * 86400,
  ledgerRetentionDays: 400,
} as const;

/** A ledger in a fresh namespace of its own (nothing shared with other tests, nothing flushed). */
export async function testLedger(
  overrides: Partial<LedgerOptions> = {},
): Promise<{ ledger: RedisLedger; redis: RedisClientType; namespace: string }> {
  const redis = await testRedis();
  const namespace = `t-${randomUUID()}`;
  const ledger = new RedisLedger({
    redis,
    namespace,
    ...LEDGER_DEFAULTS,
    ...overrides,
  });
  return { ledger, redis, namespace };
}

let counter = 0;

/** Builds a valid stage event; ids unique per call unless given. */
export function stageEvent(
  partial: Partial<StageEvent> & Pick<StageEvent, "type" | "action" | "accountId">,
): StageEvent {
  counter += 1;
  return {
    v: 1,
    eventId: `ev-${randomUUID()}`,
    sessionId: "s1",
    stepId: `step-${counter}`,
    occurredAt: new Date().toISOString(),
    ...partial,
  };
}

/** A cycle body: `credits` from an hour ago to `endInMs` from now. */
export function cycle(
  cycleId: string,
  credits: number,
  endInMs = 30 * 86_400_000,
): { cycleId: string; credits: number; start: string; end: string } {
  return {
    cycleId,
    credits,
    start: new Date(Date.now() - 3_600_000).toISOString(),
    end: new Date(Date.now() + endInMs).toISOString(),
  };
}

/**
 * Makes an account look as the release before the compact idempotency layout left it (its hash
 * without "ix" nor "iy", lua/lib/idem.lua): only such an account may still hold `evt:`/`st:` keys
 * and older step layouts, so only then are they read. For tests that write those keys by hand.
 */
export async function asAccountOfLayoutBefore(
  redis: RedisClientType,
  namespace: string,
  accountId: string,
): Promise<void> {
  await redis.hDel(`${namespace}:{${accountId}}:acct`, ["ix", "iy"]);
}
