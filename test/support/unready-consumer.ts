// A child process for test/faults/consumer-start.test.ts: the server's own startConsumer on a Redis
// that is not there yet (REDIS_URL), reporting on stdout, one JSON line every REPORT_MS, how much CPU
// the process used, how many times the consumer retried its connection and whether a worker runs. A busy loop shows as CPU ≈ wall time (or as reports that
// stop coming: a loop of microtasks starves the report timer too).
import { Queue } from "bullmq";
import { pino } from "pino";
import { loadConfig } from "../../server/src/config/config.js";
import { createRedis } from "../../server/src/app/redis-factory.js";
import { startConsumer } from "../../server/src/app/start-consumer.js";
import { RedisLedger } from "../../server/src/ledger/redis-ledger.js";
import { FanOut } from "../../server/src/ledger/fan-out.js";
import { Metrics } from "../../server/src/ops/metrics.js";
import { createOpsStream } from "../../server/src/ops/ops-stream.js";
import { bullmqConnection } from "../../server/src/metering/bullmq-connection.js";

const REPORT_MS = 500;
const config = loadConfig(process.env);
let retries = 0;
// The log lines tell the consumer's connection retries ("consumer connection not ready: retrying").
const logger = pino(
  { level: "warn" },
  {
    write(line: string) {
      if (line.includes("consumer connection not ready")) retries += 1;
    },
  },
);
const redis = createRedis(config, () => undefined);
const metrics = new Metrics();
const queue = new Queue(config.queueName, {
  connection: bullmqConnection(redis, () => undefined),
  prefix: config.queuePrefix,
});
queue.on("error", () => undefined);
const consumer = startConsumer({
  config,
  redis,
  ledger: RedisLedger.fromConfig(redis, config),
  publisher: new FanOut(),
  outbox: undefined,
  metrics,
  opsStream: createOpsStream({ redis, config, queue, metrics, logger }),
  logger,
});
const cpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const since = { at: performance.now(), cpu: cpu() };
setInterval(() => {
  const line = {
    wallMs: performance.now() - since.at,
    cpuMs: cpu() - since.cpu,
    retries,
    running: consumer.isRunning(),
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}, REPORT_MS);
