// `npm run demo`: plays one agentic session through the real queue with the StageReporter,
// after registering the video's plan (so the panel's forecast shows from the first second).
// Usage: npm run demo -- [--account demo] [--session demo-session] [--budget 100]
// Environment: REDIS_URL, CREDITMETER_QUEUE, CREDITMETER_QUEUE_PREFIX (the server's values);
// CREDITMETER_URL (the server, default http://127.0.0.1:$PORT or :3000) and CREDITMETER_TOKEN
// (a token of the account's user; default: the development server's dev login mints one).
import { parseArgs } from "node:util";
import { z } from "zod";
import { AccountId, SessionId } from "@creditmeter/shared";
import { StageReporter } from "@creditmeter/reporter";
import { playDemoSession } from "./play-demo.js";
import { devLoginToken, setSessionBudget } from "./demo-api.js";

const Settings = z.object({
  account: AccountId.default("demo"),
  session: SessionId.default(() => `demo-${Date.now().toString(36)}`),
  budget: z.coerce.number().int().min(0).max(1e12).optional(),
  redisUrl: z.url().default("redis://127.0.0.1:6379"),
  queueName: z.string().min(1).default("credit-events"),
  prefix: z.string().min(1).default("{creditmeter}"),
  serverUrl: z.url(),
  token: z.string().min(1).optional(),
});

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { account: { type: "string" }, session: { type: "string" }, budget: { type: "string" } },
  });
  const settings = Settings.parse({
    account: values.account,
    session: values.session,
    budget: values.budget,
    redisUrl: process.env.REDIS_URL,
    queueName: process.env.CREDITMETER_QUEUE,
    prefix: process.env.CREDITMETER_QUEUE_PREFIX,
    serverUrl: process.env.CREDITMETER_URL ?? `http://127.0.0.1:${process.env.PORT ?? "3000"}`,
    token: process.env.CREDITMETER_TOKEN || undefined,
  });
  // Without a token the video still plays, without a plan (and so without a forecast): only the
  // queue is needed for that. A budget needs the server.
  const token =
    settings.token ??
    (await devLoginToken(settings.serverUrl, settings.account).catch((err: unknown) => {
      if (settings.budget !== undefined) throw err;
      console.log(
        `demo: no plan (${err instanceof Error ? err.message : String(err)}; set CREDITMETER_URL or CREDITMETER_TOKEN)`,
      );
      return null;
    }));
  const reporter = new StageReporter({
    connection: { url: settings.redisUrl },
    queueName: settings.queueName,
    prefix: settings.prefix,
    accountId: settings.account,
    sessionId: settings.session,
    ...(token === null ? {} : { http: { url: settings.serverUrl, token } }),
  });
  console.log(`demo: account ${settings.account}, session ${settings.session} (open /?session=${settings.session})`);
  try {
    if (settings.budget !== undefined && token !== null) {
      // What the person does in the panel's budget field, before the video starts.
      await setSessionBudget(settings.serverUrl, token, settings.account, settings.session, settings.budget);
      console.log(`demo: session budget ${settings.budget} credits`);
    }
    const summary = await playDemoSession(reporter, { log: (line) => console.log(`demo: ${line}`) });
    console.log(`demo: done, ${summary.completed.length} steps charged, ${summary.denied.length} denied`);
  } finally {
    await reporter.close();
  }
}

main().catch((err: unknown) => {
  console.error(`demo: ${err instanceof Error ? err.message : String(err)}`);
  console.error(
    'demo: is the server running (CREDITMETER_URL), and does the account exist? (open the panel once: the dev login creates "demo")',
  );
  process.exit(1);
});
