import type { Queue } from "bullmq";
import type { StageEvent } from "@creditmeter/shared";

/** Adds stage events the way workers do (CONTRACT §2): job name = type, job id = eventId. */
export async function enqueueEvents(queue: Queue, events: StageEvent[]): Promise<void> {
  await queue.addBulk(events.map((e) => ({ name: e.type, data: e, opts: { jobId: e.eventId } })));
}

/** Jobs not yet finished: waiting, active, delayed or prioritized. */
export async function pendingJobs(queue: Queue): Promise<number> {
  const counts = await queue.getJobCounts("waiting", "active", "delayed", "prioritized");
  return Object.values(counts).reduce((sum, n) => sum + n, 0);
}

/** Whether every queued job has finished (completed or failed). */
export async function isDrained(queue: Queue): Promise<boolean> {
  return (await pendingJobs(queue)) === 0;
}
