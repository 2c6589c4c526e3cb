import { readFileSync } from "node:fs";
import type { z } from "zod";
import { DEFAULT_PRICE_BOOK, parsePriceBook, type PriceBook } from "@creditmeter/shared";
import { Env } from "./env.js";

export interface Config {
  production: boolean;
  port: number;
  host: string;
  redisUrl: string;
  /** Seed nodes of a Redis Cluster; empty means the single Redis at redisUrl (docs/scale-out.md). */
  redisClusterNodes: { host: string; port: number }[];
  logLevel: z.infer<typeof Env>["LOG_LEVEL"];
  authSecret: string;
  jwksUrl: string | undefined;
  /** When set, tokens must carry this `iss` (and dev tokens are minted with it). */
  jwtIssuer: string | undefined;
  /** When set, tokens must carry this `aud` (and dev tokens are minted with it). */
  jwtAudience: string | undefined;
  queueName: string;
  queuePrefix: string;
  keyPrefix: string;
  holdTtlSeconds: number;
  idempotencyRetentionSeconds: number;
  ledgerRetentionDays: number;
  /** Ledger scripts as Redis Functions (false: EVALSHA, as before Redis 7; ledger/scripts.ts). */
  ledgerFunctions: boolean;
  /** PostgreSQL for the ledger's history (docs/history.md); undefined keeps everything in Redis. */
  databaseUrl: string | undefined;
  /** Days of audit entries Redis keeps once archived (0: only what is not yet archived). */
  hotRetentionDays: number;
  metricsPublic: boolean;
  priceBook: PriceBook;
  concurrency: number;
  failedJobsKept: number;
  /** BullMQ lock duration; a crashed consumer's jobs are taken over after about this long. */
  jobLockMs: number;
  /** How long a stop (SIGTERM) may drain before the process exits non-zero anyway (CONTRACT §8 v1.1). */
  stopTimeoutMs: number;
  /** In production, how long the start may wait for Redis to answer before exiting non-zero (CONTRACT §8 v1.1). */
  redisConnectTimeoutMs: number;
  /**
   * Tests only (CREDITMETER_TEST_KILL_AFTER_LEDGER, refused unless NODE_ENV=test): the process
   * SIGKILLs itself right after the ledger script applied the event of this id (or the ops write of
   * this cycleId, packId or adjustmentId, the budget set of this sessionId, the sweeper's touch of
   * "sweep:<accountId>", the plan set of "plan:<sessionId>" or the dismissal of "dismiss:<accountId>"),
   * before anything else
   * happens with the outcome — the crash window of docs/webhooks.md "The gap".
   */
  testKillAfterLedger: string | undefined;
  /** Attempts of an event queued over HTTP, and the first backoff (doubling) between them; only transient errors are retried. */
  eventAttempts: number;
  eventBackoffMs: number;
  /** How long one attempt retries the ledger through a Redis outage before it fails (and is retried, if attempts are left). */
  ledgerRetryMs: number;
  runConsumer: boolean;
  runHttp: boolean;
  maxBodyBytes: number;
  /** Body limit of POST /v1/events/batch (500 events). */
  maxBatchBodyBytes: number;
  maxSocketPayloadBytes: number;
  maxWatchedSessions: number;
  connectionsPerIpPerMinute: number;
  requestsPerIpPerMinute: number;
  pushCoalesceMs: number;
  /** Pushes per room that go out at once within one coalescing window; more are merged. */
  pushBurst: number;
  /** Least time between two `balance:update` pushes to one account room (after an immediate first). */
  balancePushIntervalMs: number;
  /** Most stage events the consumer applies in one ledger script call. */
  ledgerBatchMax: number;
  sweepIntervalMs: number;
  upgradeUrl: string;
  /** Demo runs (/dev/demo, development only) going at once across all accounts. */
  demoMaxConcurrent: number;
  /** Longest `/usage` window, in days (`usageMaxDaysDefault` when unset). */
  usageMaxDays: number;
  /** Which proxies' X-Forwarded-For to believe for the client address (express `trust proxy`). */
  trustProxy: boolean | number | string[];
  /** Client events per socket: token bucket rate and size, and refusals before a flooding socket is dropped. */
  socketEvents: { perSecond: number; burst: number; refusalsBeforeDisconnect: number };
  /** The /ops stream (docs/ops.md): charge batches per second and per batch, stats period, aggregate flush period. */
  ops: { batchesPerSecond: number; maxBatch: number; statsIntervalMs: number; flushMs: number };
  /** Webhook deliveries (docs/webhooks.md): first retry gap, SSRF guard, answer deadline, parallel deliveries. */
  webhooks: { retryBaseMs: number; allowPrivate: boolean; timeoutMs: number; concurrency: number };
}

/** A configuration problem, naming the variable; the process exits non-zero with it. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = "ConfigError";
  }
}

/** Outside production a fixed development secret keeps `npm start` one command long. */
export const DEV_AUTH_SECRET = "creditmeter-development-secret-not-for-production";

function loadPriceBook(path: string | undefined): PriceBook {
  if (!path) return DEFAULT_PRICE_BOOK;
  try {
    return parsePriceBook(JSON.parse(readFileSync(path, "utf8")));
  } catch (err) {
    throw new ConfigError("CREDITMETER_PRICE_BOOK", `cannot load ${path}: ${(err as Error).message}`);
  }
}

// The cap that keeps a usage read from walking more than this many days of a Redis trail.
const REDIS_USAGE_MAX_DAYS = 92;

/**
 * The longest `/usage` window when CREDITMETER_USAGE_MAX_DAYS is unset (docs/decisions.md). A
 * read scans the Redis trail of its window entry by entry, so without history it is 92 days. With
 * history in PostgreSQL, Redis holds only the hot days and everything older is read from daily
 * rollups, so the whole ledger retention is allowed (CONTRACT §11: usage over the whole
 * retention) — unless the hot window itself is longer than 92 days.
 */
function usageMaxDaysDefault(e: {
  CREDITMETER_DATABASE_URL?: string | undefined;
  CREDITMETER_HOT_RETENTION_DAYS: number;
  CREDITMETER_LEDGER_RETENTION_DAYS: number;
}): number {
  const history = e.CREDITMETER_DATABASE_URL !== undefined && e.CREDITMETER_HOT_RETENTION_DAYS <= REDIS_USAGE_MAX_DAYS;
  return history
    ? Math.max(REDIS_USAGE_MAX_DAYS, Math.min(3660, e.CREDITMETER_LEDGER_RETENTION_DAYS))
    : REDIS_USAGE_MAX_DAYS;
}

/** Parses the environment once into a typed Config; throws ConfigError naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(String(issue?.path[0] ?? "environment"), issue?.message ?? "invalid");
  }
  const e = parsed.data;
  const production = e.NODE_ENV === "production";
  if (production && !e.CREDITMETER_AUTH_SECRET && !e.CREDITMETER_JWKS_URL) {
    throw new ConfigError("CREDITMETER_AUTH_SECRET", "required when NODE_ENV=production");
  }
  if (e.CREDITMETER_TEST_KILL_AFTER_LEDGER !== undefined && e.NODE_ENV !== "test") {
    throw new ConfigError(
      "CREDITMETER_TEST_KILL_AFTER_LEDGER",
      "a test hook that kills the process: refused unless NODE_ENV=test",
    );
  }
  return {
    production,
    port: e.PORT,
    host: e.HOST,
    redisUrl: e.REDIS_URL,
    redisClusterNodes: e.REDIS_CLUSTER_NODES ?? [],
    logLevel: e.LOG_LEVEL,
    authSecret: e.CREDITMETER_AUTH_SECRET ?? DEV_AUTH_SECRET,
    jwksUrl: e.CREDITMETER_JWKS_URL,
    jwtIssuer: e.CREDITMETER_JWT_ISSUER,
    jwtAudience: e.CREDITMETER_JWT_AUDIENCE,
    queueName: e.CREDITMETER_QUEUE,
    queuePrefix: e.CREDITMETER_QUEUE_PREFIX,
    keyPrefix: e.CREDITMETER_KEY_PREFIX,
    holdTtlSeconds: e.CREDITMETER_HOLD_TTL,
    idempotencyRetentionSeconds: e.CREDITMETER_IDEMPOTENCY_RETENTION,
    ledgerRetentionDays: e.CREDITMETER_LEDGER_RETENTION_DAYS,
    ledgerFunctions: e.CREDITMETER_LEDGER_FUNCTIONS,
    databaseUrl: e.CREDITMETER_DATABASE_URL,
    hotRetentionDays: e.CREDITMETER_HOT_RETENTION_DAYS,
    metricsPublic: e.CREDITMETER_METRICS_PUBLIC,
    priceBook: loadPriceBook(e.CREDITMETER_PRICE_BOOK),
    concurrency: e.CREDITMETER_CONCURRENCY,
    failedJobsKept: e.CREDITMETER_FAILED_JOBS_KEPT,
    jobLockMs: e.CREDITMETER_JOB_LOCK_MS,
    stopTimeoutMs: e.CREDITMETER_STOP_TIMEOUT_MS,
    redisConnectTimeoutMs: e.CREDITMETER_REDIS_CONNECT_TIMEOUT_MS,
    testKillAfterLedger: e.CREDITMETER_TEST_KILL_AFTER_LEDGER,
    eventAttempts: e.CREDITMETER_EVENT_ATTEMPTS,
    eventBackoffMs: e.CREDITMETER_EVENT_BACKOFF_MS,
    ledgerRetryMs: e.CREDITMETER_LEDGER_RETRY_MS,
    runConsumer: e.CREDITMETER_CONSUMER,
    runHttp: e.CREDITMETER_HTTP,
    maxBodyBytes: e.CREDITMETER_MAX_BODY_BYTES,
    maxBatchBodyBytes: e.CREDITMETER_MAX_BATCH_BODY_BYTES,
    maxSocketPayloadBytes: e.CREDITMETER_MAX_SOCKET_PAYLOAD_BYTES,
    maxWatchedSessions: e.CREDITMETER_MAX_WATCHED_SESSIONS,
    connectionsPerIpPerMinute: e.CREDITMETER_CONNECTIONS_PER_IP_PER_MINUTE,
    requestsPerIpPerMinute: e.CREDITMETER_REQUESTS_PER_IP_PER_MINUTE,
    pushCoalesceMs: e.CREDITMETER_PUSH_COALESCE_MS,
    pushBurst: e.CREDITMETER_PUSH_BURST,
    balancePushIntervalMs: e.CREDITMETER_BALANCE_PUSH_INTERVAL_MS,
    ledgerBatchMax: e.CREDITMETER_LEDGER_BATCH_MAX,
    sweepIntervalMs: e.CREDITMETER_SWEEP_INTERVAL_MS,
    upgradeUrl: e.CREDITMETER_UPGRADE_URL,
    demoMaxConcurrent: e.CREDITMETER_DEMO_MAX_CONCURRENT,
    usageMaxDays: e.CREDITMETER_USAGE_MAX_DAYS ?? usageMaxDaysDefault(e),
    trustProxy: e.CREDITMETER_TRUST_PROXY,
    socketEvents: {
      perSecond: e.CREDITMETER_SOCKET_EVENTS_PER_SECOND,
      burst: e.CREDITMETER_SOCKET_EVENT_BURST,
      refusalsBeforeDisconnect: e.CREDITMETER_SOCKET_REFUSALS_BEFORE_DISCONNECT,
    },
    ops: {
      batchesPerSecond: e.CREDITMETER_OPS_BATCHES_PER_SECOND,
      maxBatch: e.CREDITMETER_OPS_BATCH_MAX,
      statsIntervalMs: e.CREDITMETER_OPS_STATS_MS,
      flushMs: e.CREDITMETER_OPS_FLUSH_MS,
    },
    webhooks: {
      retryBaseMs: e.CREDITMETER_WEBHOOK_RETRY_BASE_MS,
      // Outside production every address is allowed: receivers under development run on localhost.
      allowPrivate: e.CREDITMETER_WEBHOOK_ALLOW_PRIVATE || !production,
      timeoutMs: e.CREDITMETER_WEBHOOK_TIMEOUT_MS,
      concurrency: e.CREDITMETER_WEBHOOK_CONCURRENCY,
    },
  };
}
