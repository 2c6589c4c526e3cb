import proxyaddr from "proxy-addr";
import { z } from "zod";

// The server's environment as a zod schema: what each variable may hold and its default. config.ts
// turns the parsed values into the Config the rooms receive.
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
export const Env = z.object({
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
