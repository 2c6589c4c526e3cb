// `npm run demo`: plays one agentic session through the real queue with the StageReporter.
// Usage: npm run demo -- [--account demo] [--session demo-session]
// Environment: REDIS_URL, CREDITMETER_QUEUE, CREDITMETER_QUEUE_PREFIX (the server's values).
import { parseArgs } from "node:util";
import { z } from "zod";
import { AccountId, SessionId } from "@creditmeter/shared";
import { StageReporter } from "@creditmeter/reporter";
import { playDemoSession } from "./play-demo.js";

const Settings = z.object({
  account: AccountId.default("demo"),
  session: SessionId.default(() => `demo-${Date.now().toString(36)}`),
  redisUrl: z.url().default("redis://127.0.0.1:6379"),
  queueName: z.string().min(1).default("credit-events"),
  prefix: z.string().min(1).default("{creditmeter}"),
});

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { account: { type: "string" }, session: { type: "string" } } });
  const settings = Settings.parse({
    account: values.account,
    session: values.session,
    redisUrl: process.env.REDIS_URL,
    queueName: process.env.CREDITMETER_QUEUE,
    prefix: process.env.CREDITMETER_QUEUE_PREFIX,
  });
  const reporter = new StageReporter({
    connection: { url: settings.redisUrl },
    queueName: settings.queueName,
    prefix: settings.prefix,
    accountId: settings.account,
    sessionId: settings.session,
  });
  console.log(`demo: account ${settings.account}, session ${settings.session} (open /?session=${settings.session})`);
  try {
    const summary = await playDemoSession(reporter, { log: (line) => console.log(`demo: ${line}`) });
    console.log(`demo: done, ${summary.completed.length} steps charged, ${summary.denied.length} denied`);
  } finally {
    await reporter.close();
  }
}

main().catch((err: unknown) => {
  console.error(`demo: ${err instanceof Error ? err.message : String(err)}`);
  console.error("demo: is the server running, and does the account exist? (open the panel once: the dev login creates \"demo\")");
  process.exit(1);
});
