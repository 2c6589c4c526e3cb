import type { Worker } from "bullmq";
import type { Logger } from "pino";

/** The consumer as the server holds it; the worker behind it may be replaced while it starts. */
export interface RunningConsumer {
  /** True once a worker is running (what /readyz asks). */
  isRunning(): boolean;
  /** Stops the worker (its jobs in flight finish first) and any further start. */
  close(): Promise<void>;
}

/**
 * Runs a worker from `make` once its connections are ready (issue 12). A worker run on a
 * connection that failed at setup spins in its fetch loop, every fetch failing at once; and BullMQ
 * keeps that first failure for good (the connection's `initializing` promise stays rejected), so
 * the same worker never becomes ready even once Redis answers. So a worker whose setup failed is
 * closed and a new one made, with a growing pause (to 2 s) between tries: a Redis that refuses
 * connections costs one attempt at a time, and the consumer starts as soon as it lets it in.
 * Measured by test/faults/consumer-start.test.ts.
 */
export function runWhenReady<D, R>(make: () => Worker<D, R>, logger: Logger): RunningConsumer {
  let worker = make();
  let closing = false;
  const start = async (): Promise<void> => {
    for (let delay = 100; ; delay = Math.min(delay * 2, 2000)) {
      try {
        await worker.waitUntilReady();
        break;
      } catch (err) {
        if (closing) return;
        logger.warn(
          { err: err instanceof Error ? err.message : String(err) },
          "consumer connection not ready: retrying",
        );
        // Forced: a worker that never connected has no job to finish.
        await worker.close(true).catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, delay));
        if (closing) return;
        worker = make();
      }
    }
    if (!closing) await worker.run();
  };
  start().catch((err: unknown) => logger.error({ err }, "consumer stopped"));
  return {
    isRunning: () => worker.isRunning(),
    async close() {
      closing = true;
      await worker.close();
    },
  };
}
