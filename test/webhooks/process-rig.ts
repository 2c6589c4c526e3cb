import { Queue } from "bullmq";
import { loadConfig } from "../../server/src/config/config.js";
import { RedisLedger } from "../../server/src/ledger/redis-ledger.js";
import { bullmqConnection } from "../../server/src/metering/bullmq-connection.js";
import { webhookQueueName } from "../../server/src/webhooks/jobs.js";
import { startLoopbackServer, type ServerProcess } from "../support/server-process.js";
import { cycleOf, deployment, type Deployment } from "../realtime/harness.js";
import { startReceiver, type Answer, type Receiver } from "./receiver.js";

/** One deployment for webhook tests with real server processes, its webhook queue and an ops token. */
export interface ProcessRig {
  d: Deployment;
  ledger: RedisLedger;
  webhookQueue: Queue;
  ops: string;
  /** Spawns a server of the deployment (with `extra` env) and waits until it is ready. */
  start(extra?: Record<string, string>): Promise<{ server: ServerProcess; url: string }>;
  /** A receiver on loopback, closed with the rig. */
  receiver(answer?: Answer, port?: number): Promise<Receiver>;
  /** An account without credits: every `stage.started` of it is denied. */
  emptyAccount(id: string): Promise<void>;
  /** True when no delivery is waiting, active or delayed. */
  settled(): Promise<boolean>;
  /** Kills the servers, closes the receivers, empties the queues. */
  close(): Promise<void>;
}

/** Builds the rig: a small retry base and a 1 s job lock, so restarts take over quickly. */
export async function processRig(): Promise<ProcessRig> {
  const d = await deployment({
    CREDITMETER_WEBHOOK_RETRY_BASE_MS: "200",
    CREDITMETER_JOB_LOCK_MS: "1000",
    LOG_LEVEL: "warn",
  });
  const config = loadConfig(d.env);
  const ledger = RedisLedger.fromConfig(d.redis, config);
  const webhookQueue = new Queue(webhookQueueName(d.queueName), {
    connection: bullmqConnection(d.redis, () => undefined),
    prefix: config.queuePrefix,
  });
  const servers: ServerProcess[] = [];
  const receivers: Receiver[] = [];
  return {
    d,
    ledger,
    webhookQueue,
    ops: await d.token("ops-1", "ops"),
    async start(extra = {}) {
      const server = await startLoopbackServer({ ...d.env, ...extra }, { readyTimeoutMs: 120_000 });
      servers.push(server);
      return { server, url: server.url };
    },
    async receiver(answer, port) {
      const r = await startReceiver(answer, port);
      receivers.push(r);
      return r;
    },
    async emptyAccount(id) {
      await ledger.putAccount(id, { plan: "free" });
      await ledger.startCycle(id, cycleOf(`c-${id}`, 0));
    },
    async settled() {
      const c = await webhookQueue.getJobCounts("waiting", "active", "delayed", "prioritized");
      return Object.values(c).every((n) => n === 0);
    },
    async close() {
      await Promise.all(servers.map((s) => s.kill("SIGKILL")));
      await Promise.all(receivers.map((r) => r.close()));
      await webhookQueue.obliterate({ force: true });
      await webhookQueue.close();
      await d.close();
    },
  };
}
