import { randomUUID } from "node:crypto";
import { Queue, Worker, createNodeRedisClient, type Job } from "bullmq";
import { createClient } from "redis";
import { StageReporter } from "./stage-reporter.js";
import type { StageReporterOptions } from "./reporter-options.js";

// Test support for the reporter's tests (not exported): a queue of its own per test, a
// stand-in for the metering server's consumer, and cleanup of everything it opened.


type Processor = (job: Job) => Promise<unknown>;

/** One test's queue, reporters and stand-in server; `cleanup` removes them all. */
export class ReporterHarness {
  readonly queueName = `t-${randomUUID()}`;
  readonly prefix = "{t-creditmeter}";
  private readonly stoppers: Array<() => Promise<unknown>> = [];
  private readonly clients: Array<ReturnType<typeof createClient>> = [];
  private inspector: Queue | undefined;

  constructor(private readonly url: string) {}

  /** A reporter on this test's queue. */
  reporter(options: Partial<StageReporterOptions> = {}): StageReporter {
    const reporter = new StageReporter({
      connection: { url: this.url },
      queueName: this.queueName,
      prefix: this.prefix,
      accountId: "acme",
      sessionId: "s1",
      ...options,
    });
    this.stoppers.push(() => reporter.close());
    return reporter;
  }

  /** A node-redis client closed at cleanup. */
  async client(connect = true): Promise<ReturnType<typeof createClient>> {
    const client = createClient({ url: this.url });
    client.on("error", () => undefined);
    if (connect) await client.connect();
    this.clients.push(client);
    return client;
  }

  /** A queue handle for looking at what the reporter queued. */
  async queue(): Promise<Queue> {
    if (this.inspector) return this.inspector;
    const queue = new Queue(this.queueName, {
      connection: createNodeRedisClient(await this.client()),
      prefix: this.prefix,
    });
    this.inspector = queue;
    return queue;
  }

  /** A real BullMQ worker standing in for the metering server's consumer. */
  async server(processor: Processor, removeCompleted = false): Promise<Worker> {
    const connection = createNodeRedisClient(await this.client());
    const removeOnComplete = removeCompleted ? { count: 0 } : undefined;
    const worker = new Worker(this.queueName, processor, { connection, prefix: this.prefix, removeOnComplete });
    worker.on("error", () => undefined);
    await worker.waitUntilReady();
    this.stoppers.push(() => worker.close());
    return worker;
  }

  /** Polls `probe` every 20 ms until it holds, failing after `timeoutMs`. */
  async until(probe: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await probe())) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Stops the reporters and workers, deletes the test's queue, then closes the clients. */
  async cleanup(): Promise<void> {
    for (const stop of this.stoppers.splice(0).reverse()) await stop();
    const queue = await this.queue();
    await queue.obliterate({ force: true });
    await queue.close();
    for (const client of this.clients.splice(0)) if (client.isOpen) await client.close();
  }
}
