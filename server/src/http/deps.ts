import type { Express } from "express";
import type { StageEvent } from "@creditmeter/shared";
import type { Config } from "../config/config.js";
import type { LedgerApi, Publisher } from "../ledger/api.js";
import type { AuthVerifier } from "../auth/principal.js";
import type { FailedJobs } from "../ops/failed-jobs.js";
import type { EventIntake } from "../metering/event-intake.js";
import type { WebhookStore } from "../webhooks/store.js";
import type { ApiKeyAdmin } from "./routes/api-keys.js";
import type { WebhookSettler } from "../webhooks/settle.js";

/** The slice of a pino logger the HTTP layer uses; a pino Logger satisfies it. */
export interface HttpLogger {
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** A Prometheus registry as /metrics serves it (prom-client's `register` adapts in one line). */
export interface MetricsSource {
  contentType: string;
  render(): Promise<string>;
}

/**
 * What the per-IP rate limiter needs of a node-redis v5 client (or cluster): one EVAL of
 * rate-limiter-flexible's increment script. Structural, so clients created with extra
 * scripts or modules fit too.
 */
export interface RateLimitRedisClient {
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
}

/** Everything createHttpApp is built from; nothing is read from globals or the environment. */
export interface HttpDeps {
  config: Config;
  ledger: LedgerApi;
  publisher: Publisher;
  /**
   * The webhook outbox: an ops change, budget set or plan set that raised a webhook answers only once it is
   * queued (webhooks/settle.ts). Without it (tests without webhooks) nothing is queued for them.
   */
  outbox?: WebhookSettler;
  /** Tests only (Config.testKillAfterLedger): called with the write's id right after its ledger script. */
  afterLedger?: (id: string) => void;
  verifier: AuthVerifier;
  /** Queues a validated event (the same BullMQ queue workers use) under its request id; resolves once queued. */
  enqueueEvent(event: StageEvent, requestId?: string): Promise<void>;
  /**
   * Batches, decisions (`?wait`) and event status over the queue and the ledger's records;
   * without it POST /v1/events only queues (enqueueEvent) and the batch and status routes are absent.
   */
  events?: EventIntake;
  /** API keys for ops to create, list and revoke; the routes are absent without it. */
  apiKeys?: ApiKeyAdmin;
  /** True once Redis answers and the consumer runs (CONTRACT §8). */
  readiness(): Promise<boolean>;
  metrics: MetricsSource;
  logger?: HttpLogger;
  /** The access log (pino-http), first of all middleware; absent in tests that do not log. */
  accessLog?: import("express").RequestHandler;
  /**
   * Backs the per-IP limit so that every process shares one budget. Without it the limit is
   * per process (RateLimiterMemory).
   */
  rateLimitRedis?: RateLimitRedisClient;
  /** The queue's failed jobs for ops (`/v1/ops/failed`); the routes are absent without it. */
  failedJobs?: FailedJobs;
  /** Webhook registrations (`/v1/webhooks`); the routes are absent without it. */
  webhooks?: WebhookStore;
  /** Refuses API requests once the process is stopping and counts the ones admitted (drain-gate.ts); mounted after the probes and /metrics. */
  drainGate?: import("express").RequestHandler;
  /** Mounts the static pages (/, /usage, /ops); called after the API, before the 404 handler. */
  mountPages?: (app: Express) => void;
}
