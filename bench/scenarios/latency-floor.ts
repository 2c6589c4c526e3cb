import { randomUUID } from "node:crypto";
import { Queue } from "bullmq";
import { bullmqConnection } from "@creditmeter/server";
import { QUEUE_PREFIX, waitDrained, type Deployment } from "../support/deploy.js";
import { spawnFloorServer } from "../support/noop-process.js";
import { LatencyTracker, offer, warmEveryPanel, type RateResult } from "../support/offered-load.js";
import { closePanels, openPanels } from "../support/panels.js";
import { freePort, waitFor } from "../../test/support/redis-server.js";

/** The consumer's default concurrency, as the server runs it in the layouts. */
const CONCURRENCY = 200;

/**
 * The floor of scenario 2: the same offered load and panel sockets (one per account) through
 * bench/support/floor-server.ts — BullMQ and Socket.IO doing one emit per event, nothing else —
 * on the deployment's redis-server with a queue of its own. What the metering server adds is the
 * difference from the layouts' rows. `BENCH_FLOOR=0` skips it.
 */
export async function floorStep(
  dep: Deployment,
  panelsCount: number,
  rate: number,
  seconds: number,
): Promise<RateResult | null> {
  if (process.env.BENCH_FLOOR === "0") return null;
  const queueName = `floor-${randomUUID().slice(0, 8)}`;
  const port = await freePort();
  const server = spawnFloorServer(dep.redis.url, queueName, QUEUE_PREFIX, CONCURRENCY, port);
  const queue = new Queue(queueName, {
    connection: bullmqConnection(dep.client, () => undefined),
    prefix: QUEUE_PREFIX,
  });
  const url = `http://127.0.0.1:${port}`;
  const tracker = new LatencyTracker();
  try {
    const listening = async () =>
      (await fetch(`${url}/socket.io/?EIO=4&transport=polling`).catch(() => null))?.ok === true;
    await waitFor(async () => (await listening()) && (await queue.getWorkers()).length > 0, 30_000, "the floor server");
    const accounts = Array.from({ length: panelsCount }, (_, i) => `floor-${i}`);
    const panels = await openPanels(dep, [url], accounts, panelsCount, (p, u) => tracker.seen(p, u), 1);
    const floorDep: Deployment = { ...dep, queue };
    process.stdout.write(`floor, ${rate} ev/s: starting\n`);
    await warmEveryPanel(floorDep, panels, tracker, [], "floor-warm");
    const result = await offer(floorDep, panels, tracker, [], rate, seconds, `floor-${rate}`);
    await waitDrained(queue, 60_000);
    closePanels(panels);
    return result;
  } finally {
    await queue.close();
    await server.stop();
  }
}
