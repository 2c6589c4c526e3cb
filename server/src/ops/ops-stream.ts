import { randomUUID } from "node:crypto";
import type { RedisClientType, RedisClusterType } from "redis";
import type { Config } from "../config/config.js";
import type { Metrics } from "./metrics.js";
import { opsKeys } from "./ops-keys.js";
import { startOpsEmitter, type OpsEmitter, type OpsTarget } from "./ops-emitter.js";
import { createSpendRecorder, type SpendRecorder } from "./spend-recorder.js";
import type { QueueCounts } from "./stats-reader.js";

/** The slice of a pino logger the ops stream uses. */
export interface OpsLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface OpsStreamDeps {
  redis: RedisClientType | RedisClusterType;
  config: Pick<Config, "keyPrefix" | "ops">;
  queue: QueueCounts;
  metrics: Metrics;
  logger: OpsLogger;
}

/** The /ops stream of one process: a recorder (every node) and, once attached, an emitter. */
export interface OpsStream {
  /** Add to the FanOut before the consumer starts; takes rejected events too. */
  recorder: SpendRecorder;
  /** Starts the emitter towards the /ops namespace (nodes serving Socket.IO only). */
  attach(target: OpsTarget): OpsEmitter;
  /** Stops the emitter and writes what the recorder still holds. */
  close(): Promise<void>;
}

/** Builds the /ops stream (docs/ops.md): Redis aggregates written by every node, one emitter. */
export function createOpsStream(deps: OpsStreamDeps): OpsStream {
  const { redis, config, metrics, logger } = deps;
  const keys = opsKeys(config.keyPrefix);
  const nodeId = randomUUID();
  const recorder = createSpendRecorder({
    redis,
    keys,
    flushMs: config.ops.flushMs,
    keepCharges: config.ops.maxBatch,
    signals: {
      flushFailed: (err) => {
        metrics.opsFlushFailures.inc();
        logger.warn({ err: err.message }, "ops aggregate flush failed");
      },
      alertsDropped: (n) => metrics.opsAlertsDropped.inc(n),
    },
  });
  let emitter: OpsEmitter | null = null;
  let lastError = 0;
  return {
    recorder,
    attach(target) {
      emitter = startOpsEmitter({
        redis,
        keys,
        queue: deps.queue,
        target,
        nodeId,
        batchesPerSecond: config.ops.batchesPerSecond,
        maxBatch: config.ops.maxBatch,
        statsIntervalMs: config.ops.statsIntervalMs,
        signals: {
          batch: (size, skipped) => {
            if (size > 0) metrics.opsBatches.inc();
            metrics.opsChargesShown.inc(size);
            if (skipped > 0) metrics.opsChargesSkipped.inc(skipped);
          },
          stats: (stats) => metrics.consumerLag.set(stats.queue.lagMs === null ? 0 : stats.queue.lagMs / 1000),
          leader: (isLeader) => {
            metrics.opsLeader.set(isLeader ? 1 : 0);
            logger.info({ nodeId, leader: isLeader }, isLeader ? "this node now emits /ops" : "this node stopped emitting /ops");
          },
          error: (err) => {
            // Redis down means an error per tick: log at most one every 5 seconds.
            if (Date.now() - lastError > 5000) logger.warn({ err: err.message }, "ops emitter error");
            lastError = Date.now();
          },
        },
      });
      return emitter;
    },
    async close() {
      await emitter?.close();
      await recorder.close();
    },
  };
}
