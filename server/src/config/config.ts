import { readFileSync } from "node:fs";
import proxyaddr from "proxy-addr";
import { z } from "zod";
import { DEFAULT_PRICE_BOOK, parsePriceBook, type PriceBook } from "@creditmeter/shared";

const bool = z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1");
const int = (min: number) => z.coerce.number().int().min(min);

/** `host:port[,host:port...]`: the seed nodes of a Redis Cluster (any few masters will do). */
const ClusterNodes = z
  .string()
  .trim()
  .transform((list) =>
    list
      .split(",")
      .map((item) => item.trim())
      .filter((item) => item.length > 0),
  )
  .pipe(
    z
      .array(
        z
          .string()
          .regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, "each node must be host:port, comma-separated")
          .transform((item) => {
            const at = item.lastIndexOf(":");
            return { host: item.slice(0, at), port: Number(item.slice(at + 1)) };
          })
          .refine((node) => node.port > 0 && node.port <= 65535, "port must be 1-65535"),
      )
      .min(1, "name at least one host:port"),
  );

/**
 * `CREDITMETER_TRUST_PROXY`, express's `trust proxy` values: `true`/`false`, a hop count, or a
 * comma list of addresses, subnets and the names loopback, linklocal, uniquelocal.
 */
const TrustProxy = z
  .string()
  .trim()
  .transform((value, ctx): boolean | number | string[] => {
    if (value === "" || value === "false") return false;
    if (value === "true") return true;
    if (/^\d+$/.test(value)) return Number(value);
    const list = value
      .split(",")
      .map((item) => item.trim())
      .filter((item) => item.length > 0);
    try {
      proxyaddr.compile(list);
    } catch (err) {
      ctx.addIssue({ code: "custom", message: `not a trust proxy value: ${(err as Error).message}` });
      return z.NEVER;
    }
    return list;
  });

/** Every environment variable the server reads, with its default (README "Configuration"). */
const Env = z.object({
  NODE_ENV: z.string().default("development"),
  PORT: int(0).max(65535).default(3000),
  HOST: z.string().default("0.0.0.0"),
  REDIS_URL: z.url().default("redis://127.0.0.1:6379"),
  // Empty counts as unset, so `REDIS_CLUSTER_NODES=` in a compose file means a single Redis.
  REDIS_CLUSTER_NODES: z.preprocess((v) => (v === "" ? undefined : v), ClusterNodes.optional()),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  CREDITMETER_AUTH_SECRET: z.string().min(16, "must be at least 16 characters").optional(),
  CREDITMETER_JWKS_URL: z.url().optional(),
  CREDITMETER_JWT_ISSUER: z.string().min(1).optional(),
  CREDITMETER_JWT_AUDIENCE: z.string().min(1).optional(),
  CREDITMETER_QUEUE: z.string().min(1).max(100).default("credit-events"),
  CREDITMETER_QUEUE_PREFIX: z.string().min(1).max(100).default("{creditmeter}"),
  CREDITMETER_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,40}$/)
    .default("creditmeter"),
  CREDITMETER_HOLD_TTL: int(1).default(3600),
  CREDITMETER_IDEMPOTENCY_RETENTION: int(60).default(30 * 24 * 3600),
  CREDITMETER_LEDGER_RETENTION_DAYS: int(1).default(400),
  CREDITMETER_LEDGER_FUNCTIONS: bool.default(true),
  // Empty counts as unset: history in PostgreSQL is off and Redis keeps the whole retention.
  CREDITMETER_DATABASE_URL: z.preprocess(
    (v) => (v === "" ? undefined : v),
    z
      .url()
      .refine((u) => /^postgres(ql)?:\/\//.test(u), "must be a postgres:// or postgresql:// URL")
      .optional(),
  ),
  CREDITMETER_HOT_RETENTION_DAYS: int(0).default(7),
  CREDITMETER_METRICS_PUBLIC: bool.default(false),
  CREDITMETER_PRICE_BOOK: z.string().optional(),
  // 200: jobs waiting for their batch's round trip need company to keep Redis busy (docs/performance.md).
  CREDITMETER_CONCURRENCY: int(1).max(1000).default(200),
  CREDITMETER_FAILED_JOBS_KEPT: int(0).default(10_000),
  CREDITMETER_JOB_LOCK_MS: int(500).default(30_000),
  CREDITMETER_STOP_TIMEOUT_MS: int(100).default(30_000),
  CREDITMETER_REDIS_CONNECT_TIMEOUT_MS: int(100).default(30_000),
  // A test hook (test/webhooks/outbox-crash.test.ts), refused unless NODE_ENV=test.
  CREDITMETER_TEST_KILL_AFTER_LEDGER: z.string().min(1).optional(),
  CREDITMETER_EVENT_ATTEMPTS: int(1).max(100).default(8),
  CREDITMETER_EVENT_BACKOFF_MS: int(1).default(1000),
  CREDITMETER_LEDGER_RETRY_MS: int(0).default(30_000),
  CREDITMETER_CONSUMER: bool.default(true),
  CREDITMETER_HTTP: bool.default(true),
  CREDITMETER_MAX_BODY_BYTES: int(256).default(64 * 1024),
  // 500 events of up to ~1 KiB each (a 500-character failure reason) fit in the default.
  CREDITMETER_MAX_BATCH_BODY_BYTES: int(256).default(1024 * 1024),
  CREDITMETER_MAX_SOCKET_PAYLOAD_BYTES: int(256).default(16 * 1024),
  CREDITMETER_MAX_WATCHED_SESSIONS: int(1).default(20),
  CREDITMETER_CONNECTIONS_PER_IP_PER_MINUTE: int(1).default(600),
  CREDITMETER_REQUESTS_PER_IP_PER_MINUTE: int(1).default(6000),
  CREDITMETER_PUSH_COALESCE_MS: int(0).max(1000).default(50),
  CREDITMETER_PUSH_BURST: int(1).max(100).default(3),
  CREDITMETER_BALANCE_PUSH_INTERVAL_MS: int(0).max(5000).default(500),
  CREDITMETER_LEDGER_BATCH_MAX: int(1).max(500).default(64),
  CREDITMETER_SWEEP_INTERVAL_MS: int(50).default(1000),
  CREDITMETER_UPGRADE_URL: z.string().default("/upgrade"),
  CREDITMETER_DEMO_MAX_CONCURRENT: int(1).max(100).default(4),
  // Unset: see usageMaxDaysDefault (92 days, or the whole retention with history in PostgreSQL).
  CREDITMETER_USAGE_MAX_DAYS: int(1).max(3660).optional(),
  CREDITMETER_TRUST_PROXY: TrustProxy.default(false),
  CREDITMETER_SOCKET_EVENTS_PER_SECOND: int(1).max(10_000).default(20),
  CREDITMETER_SOCKET_EVENT_BURST: int(1).max(10_000).default(40),
  CREDITMETER_SOCKET_REFUSALS_BEFORE_DISCONNECT: int(1).max(100_000).default(100),
  CREDITMETER_OPS_BATCHES_PER_SECOND: int(1).max(60).default(4),
  CREDITMETER_OPS_BATCH_MAX: int(1).max(10_000).default(500),
  CREDITMETER_OPS_STATS_MS: int(100).max(60_000).default(1000),
  CREDITMETER_OPS_FLUSH_MS: int(10).max(5000).default(100),
  CREDITMETER_WEBHOOK_RETRY_BASE_MS: int(10).default(30_000),
  CREDITMETER_WEBHOOK_ALLOW_PRIVATE: bool.default(false),
  // The contract's rule is 10 s; a smaller value lets tests show it without waiting 10 s.
  CREDITMETER_WEBHOOK_TIMEOUT_MS: int(100).max(10_000).default(10_000),
  CREDITMETER_WEBHOOK_CONCURRENCY: int(1).max(1000).default(50),
});

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
   * this cycleId, packId or adjustmentId, the budget set of this sessionId, or the sweeper's touch of
   * "sweep:<accountId>"), before anything else
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
