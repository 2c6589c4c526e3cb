// npm run soak [-- --minutes N --rate EV_PER_S --panels N --processes N]: a moderate steady load with
// panels connected, sampling server RSS and Redis memory every 10 s; writes bench/results/soak.json.
import { parseArgs } from "node:util";
import { DEFAULT_PRICE_BOOK, quoteCharge, type StageEvent } from "@creditmeter/shared";
import { deploy, seedAccounts, waitDrained } from "./support/deploy.js";
import { mismatches } from "./support/offered-load.js";
import { closePanels, openPanels } from "./support/panels.js";
import { report, table } from "./support/report.js";
import { round, summarize, takeSample, type Sample } from "./soak-sampler.js";

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "10" },
    rate: { type: "string", default: "300" },
    panels: { type: "string", default: "300" },
    processes: { type: "string", default: "2" },
    accounts: { type: "string", default: "60" },
  },
});
const minutes = Number(values.minutes);
const rate = Number(values.rate);
const panelCount = Number(values.panels);
const processes = Number(values.processes);
const accountCount = Number(values.accounts);
for (const [name, v] of Object.entries({ minutes, rate, panels: panelCount, processes, accounts: accountCount })) {
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name}: a positive number is needed`);
}
const durationMs = minutes * 60_000;
// Idempotency records and step states expire after 60 s here (30 days in production), so Redis
// reaches its steady state within the warm-up; what still grows after it is the audit log.
const warmupMs = Math.min(120_000, durationMs * 0.3);
const SAMPLE_MS = 10_000;
const ACTIONS: Pick<StageEvent, "action" | "scenes" | "seconds">[] = [
  { action: "script" },
  { action: "image", scenes: 2 },
  { action: "voiceover", seconds: 10 },
  { action: "storyboard" },
];

const dep = await deploy({ CREDITMETER_IDEMPOTENCY_RETENTION: "60", CREDITMETER_LEDGER_RETENTION_DAYS: "1" });
let exitCode = 0;
try {
  const accounts = await seedAccounts(dep, accountCount, "soak");
  for (let i = 0; i < processes; i++) await dep.start("all");
  const urls = dep.nodes.flatMap((n) => (n.url ? [n.url] : []));
  const panels = await openPanels(dep, urls, accounts, panelCount);
  process.stdout.write(
    `soak: ${minutes} min, ${rate} events/s, ${panels.length} panels on ${processes} processes, warm-up ${warmupMs / 1000} s\n`,
  );

  const expected = new Map<string, number>(accounts.map((a) => [a, 0]));
  const logKeys = accounts.map((a) => dep.ledger.keys(a).log);
  const pids = dep.nodes.map((n) => n.server.proc.pid);
  const startedAt = Date.now();
  const samples: Sample[] = [];
  let sent = 0;
  let addFailures = 0;
  let step = 0;
  let nextSample = startedAt;
  const adds = new Set<Promise<unknown>>();
  while (Date.now() - startedAt < durationMs) {
    const due = Math.floor(((Date.now() - startedAt) / 1000) * rate);
    const batch: StageEvent[] = [];
    // Each step: a started (a hold) then its completed (the charge), to sessions the panels watch.
    for (; sent + batch.length < due - 1; step++) {
      const accountId = accounts[step % accounts.length] ?? "soak-0";
      const sessionId = `sess-${Math.floor(step / accounts.length) % 10}`;
      const spec = ACTIONS[step % ACTIONS.length] ?? { action: "script" };
      const base = {
        v: 1 as const,
        accountId,
        sessionId,
        stepId: `s-${step}`,
        occurredAt: new Date().toISOString(),
        ...spec,
      };
      const done: StageEvent = { ...base, eventId: `soak-${step}-c`, type: "stage.completed" };
      batch.push({ ...base, eventId: `soak-${step}-s`, type: "stage.started" }, done);
      const quote = quoteCharge(DEFAULT_PRICE_BOOK, done, "pro");
      expected.set(accountId, (expected.get(accountId) ?? 0) + (quote.ok ? quote.credits : 0));
    }
    if (batch.length > 0) {
      sent += batch.length;
      const add = dep.queue
        .addBulk(batch.map((e) => ({ name: e.type, data: e, opts: { jobId: e.eventId } })))
        .catch(() => (addFailures += 1));
      adds.add(add);
      void add.finally(() => adds.delete(add));
    }
    if (Date.now() >= nextSample) {
      nextSample += SAMPLE_MS;
      const s = await takeSample({ startedAt, pids, client: dep.client, queue: dep.queue, logKeys, eventsSent: sent });
      samples.push(s);
      process.stdout.write(
        `  ${s.atSeconds}s sent ${s.eventsSent} backlog ${s.backlog} rss ${s.serverRssMB.join("/")} MB redis ${s.redisUsedMB} MB (audit log ${s.auditLogMB} MB)\n`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await Promise.all(adds);
  await waitDrained(dep.queue, 120_000, 100);
  samples.push(await takeSample({ startedAt, pids, client: dep.client, queue: dep.queue, logKeys, eventsSent: sent }));

  // Exactness under soak: every account charged exactly the model's total, no hold left open.
  let lost = 0;
  let doubled = 0;
  let heldLeft = 0;
  for (const [accountId, credits] of expected) {
    const bal = await dep.ledger.balance(accountId);
    if (bal.used < credits) lost += 1;
    if (bal.used > credits) doubled += 1;
    heldLeft += bal.held;
  }
  let wrongPanels = await mismatches(dep, panels);
  for (const deadline = Date.now() + 10_000; wrongPanels > 0 && Date.now() < deadline;) {
    await new Promise((r) => setTimeout(r, 250));
    wrongPanels = await mismatches(dep, panels);
  }
  closePanels(panels);
  const failed = (await dep.queue.getJobCounts("failed")).failed ?? 0;

  const summary = summarize(samples, warmupMs, pids.length);
  const md =
    table(summary.headers, summary.rows) +
    `\n\n${sent} events (${round(sent / (durationMs / 1000))}/s offered), ${panels.length} panels, ${processes} processes; ` +
    `accounts with lost charges ${lost}, with doubled charges ${doubled}, credits left held ${heldLeft}, failed jobs ${failed}, add failures ${addFailures}, panels not equal to the ledger ${wrongPanels}`;
  report(
    "soak",
    `Soak: ${minutes} min at ${rate} events/s`,
    md,
    {
      minutes,
      rate,
      panels: panels.length,
      processes,
      warmupSeconds: warmupMs / 1000,
      sent,
      lost,
      doubled,
      heldLeft,
      failed,
      addFailures,
      wrongPanels,
      samples,
    },
    false,
  );
  if (lost + doubled + heldLeft + failed + addFailures + wrongPanels > 0) exitCode = 1;
} finally {
  await dep.close();
}
process.exit(exitCode);
