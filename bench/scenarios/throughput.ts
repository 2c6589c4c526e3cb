import { Queue } from "bullmq";
import { bullmqConnection } from "@creditmeter/server";
import { buildWorkload } from "../../test/support/workload.js";
import { waitFor } from "../../test/support/redis-server.js";
import { QUEUE_PREFIX, cpuMs, deploy, seedAccounts, type Deployment } from "../support/deploy.js";
import { drain, type Drain } from "../support/drain.js";
import { spawnNoopWorker } from "../support/noop-process.js";
import { report, table } from "../support/report.js";
import { fmt } from "../support/stats.js";
import { busy, redisBudget } from "../support/budget.js";
import { commandStats, perJob, type CommandStats } from "../support/command-stats.js";
import type { ScenarioOptions } from "./options.js";

// The consumer's default (CREDITMETER_CONCURRENCY), for both; BENCH_CONCURRENCY=n compares others.
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 200);

/** A realistic mix (started/progress/completed/failed over many sessions and accounts) of about `n` events. */
export function mixedEvents(accounts: string[], n: number, tag: string): ReturnType<typeof buildWorkload>["events"] {
  // buildWorkload yields about 2.3 events per step.
  const steps = Math.max(1, Math.round(n / 2.3 / (accounts.length * 4)));
  const { events } = buildWorkload({
    accounts,
    sessionsPerAccount: 4,
    stepsPerSession: steps,
    plan: "pro",
    seed: tag.length * 7919 + n,
    tag,
  });
  // Steps of every call are new ones: a step seen in an earlier round has ended, and its events
  // would only be answered `ignored` (the first version of this bench measured that in round 2).
  return events.slice(0, n).map((e) => ({ ...e, stepId: `${tag}-${e.stepId}` }));
}

interface Round {
  kind: "no-op BullMQ worker" | "full pipeline";
  drain: Drain;
  cpuMsPerJob: number | null;
  redisCpuMsPerJob: number | null;
  /** Redis's own µs per job by command (INFO commandstats), most expensive first. */
  redisCommands: ReturnType<typeof perJob>;
}

async function measure(
  kind: Round["kind"],
  dep: Deployment,
  queue: Queue,
  pids: [number | undefined, number | undefined],
  events: ReturnType<typeof mixedEvents>,
): Promise<Round> {
  let before = pids.map(cpuMs);
  let statsBefore: CommandStats = new Map();
  const d = await drain(queue, events, 300_000, async () => {
    before = pids.map(cpuMs);
    statsBefore = await commandStats(dep.client);
  });
  const redisCommands = perJob(statsBefore, await commandStats(dep.client), d.jobs);
  const cpu = pids.map((pid, i) => {
    const a = before[i];
    const b = cpuMs(pid);
    return a !== null && a !== undefined && b !== null ? (b - a) / d.jobs : null;
  });
  return { kind, drain: d, cpuMsPerJob: cpu[0] ?? null, redisCpuMsPerJob: cpu[1] ?? null, redisCommands };
}

/** Scenario 1: the full pipeline vs a no-op BullMQ worker, the same N jobs, the same run. */
export async function throughput(opts: ScenarioOptions, dep?: Deployment): Promise<unknown> {
  const n = opts.quick ? 6_000 : 30_000;
  const rounds = opts.quick ? 1 : 2;
  const own = dep ?? (await deploy({ CREDITMETER_CONCURRENCY: String(CONCURRENCY) }));
  const noopQueueName = `${own.queue.name}-noop`;
  const noopQueue = new Queue(noopQueueName, {
    connection: bullmqConnection(own.client, () => undefined),
    prefix: QUEUE_PREFIX,
  });
  const noop = spawnNoopWorker(own.redis.url, noopQueueName, QUEUE_PREFIX, CONCURRENCY);
  try {
    const accounts = await seedAccounts(own, 200);
    const node = await own.start("all");
    await waitFor(async () => (await noopQueue.getWorkers()).length > 0, 30_000, "the no-op worker");
    // Warm both up (JIT, connections, script cache) before the clock runs.
    await drain(noopQueue, mixedEvents(accounts, 1000, "warm-noop"), 60_000);
    await drain(own.queue, mixedEvents(accounts, 1000, "warm"), 60_000);
    const results: Round[] = [];
    for (let r = 0; r < rounds; r++) {
      results.push(
        await measure(
          "no-op BullMQ worker",
          own,
          noopQueue,
          [noop.proc.pid, own.redis.process.pid],
          mixedEvents(accounts, n, `noop${r}`),
        ),
      );
      results.push(
        await measure(
          "full pipeline",
          own,
          own.queue,
          [node.server.proc.pid, own.redis.process.pid],
          mixedEvents(accounts, n, `run${r}`),
        ),
      );
    }
    const mean = (kind: Round["kind"]): number => {
      const xs = results.filter((x) => x.kind === kind).map((x) => x.drain.perSecond);
      return xs.reduce((a, b) => a + b, 0) / xs.length;
    };
    const ratio = mean("full pipeline") / mean("no-op BullMQ worker");
    const rows = results.map((x) => [
      x.kind,
      x.drain.jobs,
      fmt(x.drain.seconds),
      fmt(x.drain.perSecond, 0),
      fmt(x.cpuMsPerJob, 3),
      fmt(x.redisCpuMsPerJob, 3),
      fmt((busy(x.drain.perSecond, x.redisCpuMsPerJob) ?? NaN) * 100, 0),
      x.drain.failed,
    ]);
    const [lastNoop, lastPipeline] = results.slice(-2);
    const budget =
      lastNoop && lastPipeline
        ? redisBudget({ ...lastNoop, ...lastNoop.drain }, { ...lastPipeline, ...lastPipeline.drain }, 0.8)
        : null;
    const md =
      table(
        [
          "drained by",
          "jobs",
          "seconds",
          "events/s",
          "worker CPU ms/job",
          "Redis CPU ms/job",
          "Redis busy %",
          "failed",
        ],
        rows,
      ) +
      `\n\nconcurrency ${CONCURRENCY}; ratio full pipeline / no-op = **${fmt(ratio)}×** (target ≥ 0.80×)\n\n` +
      (budget ? `${budget}\n\n` : "") +
      "Redis µs per job by command (INFO commandstats, last round):\n\n" +
      results
        .slice(-2)
        .map(
          (x) =>
            `- ${x.kind}: ${x.redisCommands
              .slice(0, 6)
              .map((c) => `${c.command} ${fmt(c.usecPerJob, 1)} (${fmt(c.callsPerJob, 2)} calls)`)
              .join(", ")}`,
        )
        .join("\n");
    const data = { n, concurrency: CONCURRENCY, rounds: results, ratio, budget };
    report("throughput", "1. Throughput: full pipeline vs a no-op BullMQ worker", md, data, opts.quick);
    return data;
  } finally {
    await noop.stop();
    await noopQueue.close();
    if (!dep) await own.close();
  }
}
