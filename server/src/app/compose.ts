import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Queue, QueueEvents } from "bullmq";
import { bullmqConnection } from "../metering/bullmq-connection.js";
import { createRedis } from "./redis-factory.js";
import { connectRedisAtStart } from "./redis-startup.js";
import { lazyExpiryAdvice } from "./redis-settings.js";
import { redisReady, type AppRedis } from "../redis/redis-client.js";
import type { Logger } from "pino";
import type { Config } from "../config/config.js";
import { RedisLedger } from "../ledger/redis-ledger.js";
import type { LedgerOutcome } from "../ledger/outcome.js";
import { FanOut } from "../ledger/fan-out.js";
import { startSweeper, type Sweeper } from "../ledger/sweeper.js";
import { ApiKeyStore, createAuthVerifier, withApiKeys } from "../auth/index.js";
import { createHttpApp, createProbeApp, type MetricsSource } from "../http/index.js";
import { accessLog } from "../http/access-log.js";
import { Metrics } from "../ops/metrics.js";
import { createRealtime } from "../realtime/index.js";
import { createDemoLauncher, mountPages } from "../pages/index.js";
import { createOpsStream } from "../ops/ops-stream.js";
import { failedJobs } from "../ops/failed-jobs.js";
import { killAfterLedger, startConsumer } from "./start-consumer.js";
import type { RunningConsumer } from "./run-when-ready.js";
import { ingestJobOptions } from "../metering/ingest-options.js";
import { withRequestId } from "../metering/job-request-id.js";
import { readFailedJobCounts } from "../ops/failed-job-count.js";
import { pingWithin } from "./ping-within.js";
import { createEventIntake, type EventIntake } from "../metering/event-intake.js";
import { DecisionWaiters } from "../metering/decision-waiters.js";
import { createWebhooks } from "../webhooks/index.js";
import { startHistory } from "../history/index.js";
import { createDrainGate } from "../http/drain-gate.js";

/** A started server: what its lifecycle (main.ts, tests) needs. */
export interface RunningServer {
  config: Config;
  ledger: RedisLedger;
  metrics: Metrics;
  /** The bound port (useful with PORT=0). */
  port: number;
  ready(): Promise<boolean>;
  /** Graceful stop: no new jobs, in-flight jobs finished, sockets closed (CONTRACT §8). /readyz is 503 from its first moment. */
  close(): Promise<void>;
  /** What a stop under way has not finished yet, for the line a stop that timed out leaves. */
  unfinished(): string[];
}

interface Parts {
  redis: AppRedis;
  queue: Queue;
  consumer: RunningConsumer | null;
  sweeper: Sweeper;
  http: Server | null;
  closers: (() => Promise<void>)[];
}

function connectRedis(config: Config, logger: Logger): AppRedis {
  let lastLog = 0;
  return createRedis(config, (err: Error) => {
    // Redis down means an error per reconnect attempt: log at most one a second.
    if (Date.now() - lastLog > 1000) logger.warn({ err: err.message }, "redis error");
    lastLog = Date.now();
  });
}

/**
 * The events routes' intake, with the process's one QueueEvents listener (a blocking connection
 * of its own, open while requests wait for their decision) shared by every such request.
 */
async function startEventIntake(
  config: Config,
  redis: AppRedis,
  queue: Queue,
  ledger: RedisLedger,
  logger: Logger,
): Promise<{ intake: EventIntake; close: () => Promise<void> }> {
  const waiters = new DecisionWaiters({
    lastEventId: async () => (await redis.xRevRange(queue.toKey("events"), "+", "-", { COUNT: 1 }))[0]?.id ?? "0-0",
    open: (lastEventId) => {
      const listener = new QueueEvents(config.queueName, {
        connection: bullmqConnection(redis, (err) =>
          logger.debug({ err: err.message }, "queue events connection error"),
        ),
        prefix: config.queuePrefix,
        lastEventId,
      });
      listener.on("error", (err) => logger.debug({ err: err.message }, "queue events error"));
      return listener;
    },
  });
  const intake = createEventIntake({
    queue,
    waiters,
    jobOptions: ingestJobOptions(config),
    readRecord: (accountId, eventId) => ledger.readEventRecord(accountId, eventId),
  });
  return { intake, close: () => waiters.close() };
}

/** Builds and starts every room the configuration asks for: ledger, consumer, sweeper, HTTP. */
export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  const redis = connectRedis(config, logger);
  await connectRedisAtStart(redis, config);
  const advice = await lazyExpiryAdvice(redis);
  if (advice) logger.warn(advice);
  const publisher = new FanOut();
  const metrics = new Metrics();
  // History in PostgreSQL only where configured: without it nothing below changes (CONTRACT §11).
  let ledgerMade: (ledger: RedisLedger) => void = () => undefined;
  const history = config.databaseUrl
    ? startHistory({
        databaseUrl: config.databaseUrl,
        redis,
        namespace: config.keyPrefix,
        logger,
        hotRetentionDays: config.hotRetentionDays,
        ledgerRetentionDays: config.ledgerRetentionDays,
        onArchiveError: () => metrics.historyArchiveFailures.inc(),
        ledger: new Promise<RedisLedger>((resolve) => (ledgerMade = resolve)),
      })
    : null;
  // The webhook outbox is made after the ledger (it marks the ledger's records) and the sweeper;
  // both reach it through this, set synchronously below, before any sweep or read can run.
  let outboxSettle: ((outcome: LedgerOutcome) => Promise<void>) | null = null;
  const settleWebhooks = (outcome: LedgerOutcome): Promise<void> =>
    outboxSettle ? outboxSettle(outcome) : Promise.reject(new Error("the webhook outbox is not started"));
  const ledger = RedisLedger.fromConfig(redis, config, {
    onMaintenance: (outcome) => {
      publisher.publish(outcome);
      // A read that did time-due work has no caller to retry it: its alert is queued in the
      // background, and until then kept in the account (touch-3.lua), where the sweeper finds it.
      if (outcome.raisedRecord) {
        settleWebhooks(outcome).catch((err: unknown) =>
          logger.warn({ err, accountId: outcome.accountId }, "queueing a read's webhooks failed; the sweeper retries"),
        );
      }
    },
    onError: (err) => logger.warn({ err }, "deadline index update failed"),
    onAudit: history ? (accountIds) => history.noteAudit(accountIds) : undefined,
    archive: history?.archive,
  });
  ledgerMade(ledger);
  const queue = new Queue(config.queueName, {
    connection: bullmqConnection(redis, (err) => logger.debug({ err: err.message }, "queue connection error")),
    prefix: config.queuePrefix,
  });
  queue.on("error", (err) => logger.debug({ err: err.message }, "queue error"));
  const parts: Parts = {
    redis,
    queue,
    consumer: null,
    sweeper: startSweeper(
      ledger,
      publisher,
      config.sweepIntervalMs,
      (err) => logger.warn({ err }, "sweep failed"),
      (accountId, err) => {
        metrics.sweepAccountFailures.inc();
        logger.error({ err, accountId }, "sweeping an account failed; it is retried in a minute, the pass goes on");
      },
      { settle: settleWebhooks, afterLedger: killAfterLedger(config.testKillAfterLedger) },
    ),
    http: null,
    closers: [],
  };
  // Before the consumer starts, so that no charge escapes the /ops aggregates.
  const opsStream = createOpsStream({ redis, config, queue, metrics, logger });
  publisher.add(opsStream.recorder);
  parts.closers.push(() => opsStream.close());
  // Every process queues the webhook deliveries of the changes it makes; consumers deliver them.
  const webhooks = createWebhooks(redis, config, logger, metrics, ledger);
  publisher.add(webhooks.outbox);
  outboxSettle = (outcome) => webhooks.outbox.settle(outcome);

  let draining = false; // set by close(): a load balancer must stop sending work from then on
  let closing = ""; // the step of close() under way
  let jobsInFlight = 0;
  const ready = async (): Promise<boolean> =>
    !draining &&
    redisReady(redis) &&
    (await pingWithin(redis, 1000)) &&
    !draining &&
    (parts.consumer ? parts.consumer.isRunning() : true);
  const apiKeys = new ApiKeyStore({
    redis,
    namespace: config.keyPrefix,
    onError: (err) => logger.warn({ err }, "API key lastUsedAt update failed"),
  });
  const verifier = withApiKeys(createAuthVerifier(config), apiKeys);
  const metricsSource: MetricsSource = {
    contentType: metrics.registry.contentType,
    render: async () => {
      const counts = await queue.getJobCounts("waiting", "active", "delayed", "failed");
      for (const [state, n] of Object.entries(counts)) metrics.queueDepth.set({ state }, n);
      metrics.setFailedJobs(await readFailedJobCounts(redis, config.keyPrefix));
      if (history) metrics.historyPending.set(await history.pendingAccounts());
      return metrics.registry.metrics();
    },
  };
  let http: Server | null = null;
  // The API closes first on a stop, before anything its requests use (drain-gate.ts).
  const gate = createDrainGate();
  if (!config.runHttp) {
    // A consumer-only process still answers its probes and is scraped (CONTRACT §8 v1.1).
    parts.http = createServer(createProbeApp({ config, verifier, readiness: ready, metrics: metricsSource, logger }));
  } else {
    const events = await startEventIntake(config, redis, queue, ledger, logger);
    parts.closers.push(events.close);
    // Development only; closed with the server so no demo driver outlives it.
    const demo = config.production
      ? undefined
      : createDemoLauncher({
          config,
          onError: (err, accountId) => logger.warn({ err: err.message, accountId }, "demo session failed"),
        });
    if (demo) parts.closers.push(() => demo.close());
    const app = createHttpApp({
      config,
      ledger,
      publisher,
      outbox: webhooks.outbox,
      afterLedger: killAfterLedger(config.testKillAfterLedger),
      verifier,
      enqueueEvent: async (event, requestId) => {
        await queue.add(
          event.type,
          event,
          withRequestId({ ...ingestJobOptions(config), jobId: event.eventId }, requestId),
        );
      },
      events: events.intake,
      apiKeys,
      readiness: ready,
      failedJobs: failedJobs(queue),
      webhooks: webhooks.store,
      metrics: metricsSource,
      logger,
      accessLog: accessLog(logger),
      rateLimitRedis: redis,
      mountPages: mountPages({ config, ledger, verifier, demo }),
      drainGate: gate.middleware,
    });
    http = createServer(app);
    parts.http = http;
  }
  // Realtime before the consumer, so that every outcome from the first job on reaches the
  // panels. A process without HTTP (CREDITMETER_HTTP=false) still emits through the Redis adapter.
  const realtime = await createRealtime({
    httpServer: http ?? undefined,
    config,
    verifier,
    ledger,
    redis,
    logger,
    metrics,
    changes: publisher,
    outbox: webhooks.outbox,
    afterLedger: killAfterLedger(config.testKillAfterLedger),
  });
  publisher.add(realtime.publisher);
  opsStream.attach(realtime.ops);
  parts.closers.push(() => realtime.close());
  if (config.runConsumer) {
    const onJobsInFlight = (delta: 1 | -1): void => void (jobsInFlight += delta);
    parts.consumer = startConsumer({
      config,
      redis,
      ledger,
      publisher,
      outbox: webhooks.outbox,
      metrics,
      opsStream,
      logger,
      onJobsInFlight,
    });
    webhooks.startWorker();
  }

  let port = 0;
  if (parts.http) {
    const server = parts.http;
    await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
    port = (server.address() as AddressInfo).port;
    logger.info({ port }, "creditmeter listening");
  }

  return {
    config,
    ledger,
    metrics,
    port,
    ready,
    async close() {
      draining = true;
      // No new API request from now on; those admitted finish while the consumer drains.
      const requestsDone = gate.close();
      closing = "the consumer";
      await parts.consumer?.close();
      closing = "the sweeper";
      await parts.sweeper.stop();
      closing = "the HTTP requests already admitted";
      await requestsDone;
      closing = "the realtime server and the /ops stream";
      for (const close of parts.closers) await close();
      closing = "the webhook outbox";
      // After the consumer: the deliveries its last jobs queued are in Redis before the queue closes.
      await webhooks.close();
      closing = "the HTTP server";
      if (parts.http) {
        const http = parts.http;
        http.closeAllConnections();
        await new Promise<void>((resolve) => http.close(() => resolve()));
      }
      closing = "the history database pool";
      await history?.close();
      closing = "the queue and the Redis connection";
      await queue.close();
      await redis.close();
      closing = "";
    },
    unfinished() {
      const left: string[] = [];
      if (jobsInFlight > 0)
        left.push(
          `${jobsInFlight} job(s) in flight, not acknowledged: Redis hands them to another consumer once their lock expires`,
        );
      const requests = gate.inFlight();
      if (requests > 0) left.push(`${requests} HTTP request(s) not yet answered`);
      if (closing) left.push(`closing ${closing}`);
      return left;
    },
  };
}
