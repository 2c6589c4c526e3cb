import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { Queue, createNodeRedisClient } from "bullmq";
import { createClient } from "redis";
import { pino } from "pino";
import { chromium, type Browser, type Page } from "playwright-core";
import { inject } from "vitest";
import { Balance, type ActionId, type StageEvent } from "@creditmeter/shared";
import { loadConfig } from "../../server/src/config/config.js";
import { startServer, type RunningServer } from "../../server/src/app/compose.js";
import { mintToken } from "../../server/src/auth/mint-token.js";
import { buildUiIfStale } from "./ui-build.js";

export const CHROMIUM = "/usr/bin/chromium";
export const SCREENSHOTS = "test-results/screenshots";
const SECRET = `browser-test-secret-${randomUUID()}`;

/** A real server (HTTP, Socket.IO, consumer) on a queue of its own, a browser, and a way to publish. */
export interface BrowserRig {
  server: RunningServer;
  url: string;
  browser: Browser;
  queue: Queue;
  /** A fresh account with a 300-credit free-plan cycle. */
  account(): Promise<string>;
  token(accountId: string): Promise<string>;
  /** A page whose sessionStorage already holds a user token for `accountId`. */
  page(accountId: string): Promise<Page>;
  /** Adds a stage event to the queue, as a worker outside the browser would. */
  publish(accountId: string, sessionId: string, type: StageEvent["type"], fields: EventFields): Promise<void>;
  balance(accountId: string): Promise<Balance>;
  /** Adds a credit pack through the ops API, as a billing system would (the change is pushed to panels). */
  addPack(accountId: string, packId: string, credits: number): Promise<void>;
  close(): Promise<void>;
}

interface EventFields {
  stepId: string;
  action: ActionId;
  model?: string;
  scenes?: number;
  seconds?: number;
}

/** Evaluates `code` in the page (a string: the tests have no DOM types). */
export const js = <T>(page: Page, code: string): Promise<T> => page.evaluate(code) as Promise<T>;

/** Builds the UI if needed, starts the server and launches Chromium. */
export async function startRig(): Promise<BrowserRig> {
  buildUiIfStale();
  mkdirSync(SCREENSHOTS, { recursive: true });
  const id = randomUUID().slice(0, 8);
  const config = loadConfig({
    NODE_ENV: "test",
    PORT: "0",
    HOST: "127.0.0.1",
    REDIS_URL: inject("redisUrl"),
    LOG_LEVEL: "silent",
    CREDITMETER_AUTH_SECRET: SECRET,
    CREDITMETER_KEY_PREFIX: `t-ui-${id}`,
    CREDITMETER_QUEUE: `q-ui-${id}`,
    CREDITMETER_QUEUE_PREFIX: "{creditmeter-test}",
  });
  const server = await startServer(config, pino({ level: "silent" }));
  const url = `http://127.0.0.1:${server.port}`;
  const redis = createClient({ url: config.redisUrl });
  const queue = new Queue(config.queueName, { connection: createNodeRedisClient(redis), prefix: config.queuePrefix });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
  const token = (accountId: string): Promise<string> =>
    mintToken(SECRET, { sub: accountId, role: "user", ttlSeconds: 3600 });

  return {
    server,
    url,
    browser,
    queue,
    token,
    async account() {
      const accountId = `ui-${randomUUID().slice(0, 12)}`;
      await server.ledger.putAccount(accountId, { plan: "free" });
      const start = new Date(Date.now() - 3600_000);
      await server.ledger.startCycle(accountId, {
        cycleId: `c-${accountId}`,
        credits: 300,
        start: start.toISOString(),
        end: new Date(start.getTime() + 30 * 86_400_000).toISOString(),
      });
      return accountId;
    },
    async page(accountId) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      // A script string: the test runs without DOM types, the page has them.
      await context.addInitScript({
        content: `sessionStorage.setItem("creditmeter.token", ${JSON.stringify(await token(accountId))});`,
      });
      return context.newPage();
    },
    async publish(accountId, sessionId, type, fields) {
      const eventId = `e-${randomUUID()}`;
      const event = { v: 1, eventId, type, accountId, sessionId, occurredAt: new Date().toISOString(), ...fields };
      await queue.add(type, event, { jobId: eventId });
    },
    async balance(accountId) {
      const res = await fetch(`${url}/v1/accounts/${accountId}/balance`, {
        headers: { authorization: `Bearer ${await token(accountId)}` },
      });
      if (!res.ok) throw new Error(`balance: HTTP ${res.status}`);
      return Balance.parse(await res.json());
    },
    async addPack(accountId, packId, credits) {
      const ops = await mintToken(SECRET, { sub: "ops", role: "ops", ttlSeconds: 600 });
      const res = await fetch(`${url}/v1/accounts/${accountId}/packs`, {
        method: "POST",
        headers: { authorization: `Bearer ${ops}`, "content-type": "application/json" },
        body: JSON.stringify({ packId, credits }),
      });
      if (!res.ok) throw new Error(`pack: HTTP ${res.status}`);
    },
    async close() {
      await browser.close();
      await queue.close();
      await server.close();
    },
  };
}
