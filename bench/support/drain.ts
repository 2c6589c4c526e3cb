import type { Queue } from "bullmq";
import type { StageEvent } from "@creditmeter/shared";
import { waitDrained } from "./deploy.js";

/** What one drain measured. */
export interface Drain {
  jobs: number;
  seconds: number;
  perSecond: number;
  failed: number;
}

/**
 * Queues every event while the queue is paused, then resumes it and times until nothing is left:
 * the consumers are warm and the clock measures draining only, not adding. `onResume` runs just
 * before the clock starts (to read CPU counters that should not include the adding).
 */
export async function drain(
  queue: Queue,
  events: StageEvent[],
  timeoutMs: number,
  onResume?: () => Promise<void>,
): Promise<Drain> {
  const failedBefore = await queue.getFailedCount();
  await queue.pause();
  for (let i = 0; i < events.length; i += 1000) {
    await queue.addBulk(events.slice(i, i + 1000).map((e) => ({ name: e.type, data: e, opts: { jobId: e.eventId } })));
  }
  await onResume?.();
  const started = performance.now();
  await queue.resume();
  const ended = await waitDrained(queue, timeoutMs, 5);
  const seconds = (ended - started) / 1000;
  return {
    jobs: events.length,
    seconds,
    perSecond: events.length / seconds,
    failed: (await queue.getFailedCount()) - failedBefore,
  };
}
