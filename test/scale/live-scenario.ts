import {
  DEFAULT_PRICE_BOOK,
  quoteCharge,
  quoteHold,
  type Balance,
  type SessionUpdate,
  type StageDenied,
  type StageEvent,
} from "@creditmeter/shared";
import { createCreditMeter, type CreditMeter } from "@creditmeter/panel/sdk";
import { mintToken } from "../../server/src/auth/index.js";
import type { RedisLedger } from "../../server/src/ledger/redis-ledger.js";
import { buildWorkload } from "../support/workload.js";
import { waitFor } from "../support/redis-server.js";

/** Where the scenario runs: one URL for REST and panels (a server or a proxy in front of several). */
export interface ScenarioTarget {
  url: string;
  secret: string;
  /** Reads the truth straight from the ledger (the same Redis or cluster the servers use). */
  ledger: RedisLedger;
  /** Adds stage events to the queue the way workers do (job id = eventId). */
  enqueue(events: StageEvent[]): Promise<void>;
  /** Resolves once the queue has nothing waiting or active. */
  drained(): Promise<boolean>;
}

export interface ScenarioOptions {
  /** Funded accounts; their events follow the reference model in test/support/workload.ts. */
  accounts: string[];
  /** An account too poor for the step it starts: every start is denied. */
  scarce: string;
  sessionsPerAccount: number;
  stepsPerSession: number;
  panelsPerAccount: number;
  /** Every n-th event goes through POST /v1/events instead of the queue. */
  httpEvery: number;
  tag: string;
  seed: number;
  /** Called once every panel is connected, before any event is sent (e.g. to read where they landed). */
  onPanelsConnected?: () => Promise<void>;
}

/** What the scenario sent and saw, for the test to assert on beyond its own checks. */
export interface ScenarioReport {
  events: number;
  viaHttp: number;
  denials: number;
  panels: number;
}

interface Panel {
  accountId: string;
  meter: CreditMeter;
  sessions: Map<string, SessionUpdate[]>;
  balances: Balance[];
  denied: StageDenied[];
}

const FUNDS = 1_000_000;
const DENIED_STARTS = 3;

async function rest(target: ScenarioTarget, method: string, path: string, token: string, body: unknown): Promise<void> {
  const res = await fetch(`${target.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
}

function cycleBody(cycleId: string, credits: number): object {
  return {
    cycleId,
    credits,
    start: new Date(Date.now() - 3_600_000).toISOString(),
    end: new Date(Date.now() + 30 * 86_400_000).toISOString(),
  };
}

function openPanel(target: ScenarioTarget, accountId: string, sessionIds: string[]): Panel {
  const meter = createCreditMeter({
    url: target.url,
    token: () => mintToken(target.secret, { sub: accountId, role: "user", ttlSeconds: 3600 }),
    reconnectionDelayMs: 100,
    reconnectionDelayMaxMs: 1000,
  });
  const panel: Panel = { accountId, meter, sessions: new Map(), balances: [], denied: [] };
  for (const sessionId of sessionIds) {
    const seen: SessionUpdate[] = [];
    panel.sessions.set(sessionId, seen);
    meter.watchSession(sessionId, (u) => seen.push(u));
  }
  meter.onBalance((b) => panel.balances.push(b));
  meter.onDenied((d) => panel.denied.push(d));
  return panel;
}

/** The scarce account's events: expensive starts it cannot afford, then one cheap completed step. */
function scarceEvents(accountId: string, tag: string): { events: StageEvent[]; credits: number; charged: number } {
  const at = new Date().toISOString();
  const base = { v: 1 as const, accountId, sessionId: "sess-0", occurredAt: at };
  const expensive = { action: "animation" as const, model: "sora-2-pro", seconds: 8 };
  const hold = quoteHold(DEFAULT_PRICE_BOOK, expensive, "free");
  const cheap: StageEvent = {
    ...base,
    eventId: `${tag}-scarce-done`,
    type: "stage.completed",
    stepId: "cheap",
    action: "script",
  };
  const charge = quoteCharge(DEFAULT_PRICE_BOOK, cheap, "free");
  if (!hold.ok || !charge.ok) throw new Error("price book cannot quote the scarce scenario");
  const credits = hold.credits - 1;
  if (charge.credits > credits) throw new Error("the scarce account's cheap step must be affordable");
  const starts: StageEvent[] = Array.from({ length: DENIED_STARTS }, (_, i) => ({
    ...base,
    ...expensive,
    eventId: `${tag}-scarce-${i}`,
    type: "stage.started",
    stepId: `big-${i}`,
  }));
  return { events: [...starts, cheap], credits, charged: charge.credits };
}

/**
 * The core and live scenario on a running deployment: accounts and cycles over REST, panels (the
 * SDK) watching every session, a reference workload of holds, charges and failures through the
 * queue and POST /v1/events, and denials on a scarce account. Ends when the ledger and every
 * panel equal the reference model, or throws saying which did not.
 */
export async function runLiveScenario(target: ScenarioTarget, opts: ScenarioOptions): Promise<ScenarioReport> {
  const ops = await mintToken(target.secret, { sub: "scenario-ops", role: "ops", ttlSeconds: 3600 });
  const worker = await mintToken(target.secret, { sub: "scenario-worker", role: "worker", ttlSeconds: 3600 });
  const scarce = scarceEvents(opts.scarce, opts.tag);
  for (const accountId of opts.accounts) {
    await rest(target, "PUT", `/v1/accounts/${accountId}`, ops, { plan: "free" });
    await rest(target, "POST", `/v1/accounts/${accountId}/cycles`, ops, cycleBody(`c-${opts.tag}`, FUNDS));
  }
  await rest(target, "PUT", `/v1/accounts/${opts.scarce}`, ops, { plan: "free" });
  await rest(target, "POST", `/v1/accounts/${opts.scarce}/cycles`, ops, cycleBody(`c-${opts.tag}`, scarce.credits));

  const sessionIds = Array.from({ length: opts.sessionsPerAccount }, (_, s) => `sess-${s}`);
  const panels: Panel[] = [];
  for (const accountId of [...opts.accounts, opts.scarce]) {
    for (let i = 0; i < opts.panelsPerAccount; i++) panels.push(openPanel(target, accountId, sessionIds));
  }
  try {
    await waitFor(
      () =>
        panels.every(
          (p) =>
            p.meter.state === "connected" &&
            p.balances.length > 0 &&
            [...p.sessions.values()].every((s) => s.length > 0),
        ),
      20_000,
      "every panel connected with its snapshots",
    );
    await opts.onPanelsConnected?.();

    const { events, expected } = buildWorkload({
      accounts: opts.accounts,
      sessionsPerAccount: opts.sessionsPerAccount,
      stepsPerSession: opts.stepsPerSession,
      plan: "free",
      seed: opts.seed,
      tag: opts.tag,
    });
    const all = [...events, ...scarce.events];
    const viaHttp = all.filter((_, i) => i % opts.httpEvery === 0);
    const viaQueue = all.filter((_, i) => i % opts.httpEvery !== 0);
    // Each step's events keep their order within one channel: HTTP ones are posted one by one
    // and the queue ones added in order; across channels the model is order-independent.
    for (let i = 0; i < viaQueue.length; i += 200) await target.enqueue(viaQueue.slice(i, i + 200));
    for (const event of viaHttp) await rest(target, "POST", "/v1/events", worker, event);
    await waitFor(() => target.drained(), 60_000, "the queue to drain");

    for (const [accountId, exp] of expected) {
      const bal = await target.ledger.balance(accountId);
      if (bal.used !== exp.charged || bal.held !== 0)
        throw new Error(
          `${accountId}: ledger used ${bal.used} held ${bal.held}, model says used ${exp.charged} held 0`,
        );
      for (const [sessionId, ses] of exp.sessions) {
        const got = await target.ledger.session(accountId, sessionId);
        if (
          got.used !== ses.used ||
          got.reserved !== 0 ||
          Object.entries(ses.byStage).some(
            ([stage, credits]) => (new Map(Object.entries(got.byStage)).get(stage) ?? 0) !== credits,
          )
        ) {
          throw new Error(
            `${accountId}/${sessionId}: ledger used ${got.used} reserved ${got.reserved}, model says ${ses.used}`,
          );
        }
      }
    }
    const scarceBalance = await target.ledger.balance(opts.scarce);
    if (scarceBalance.used !== scarce.charged || scarceBalance.held !== 0)
      throw new Error(
        `${opts.scarce}: used ${scarceBalance.used} held ${scarceBalance.held}, expected ${scarce.charged} and 0`,
      );

    // Every panel ends on the ledger's numbers, and what it saw never went backwards.
    await waitFor(
      () =>
        panels.every((p) => {
          const exp = expected.get(p.accountId);
          const wantUsed = exp ? exp.charged : scarce.charged;
          if (p.meter.balance?.used !== wantUsed) return false;
          if (!exp) return p.denied.length === DENIED_STARTS;
          return [...exp.sessions].every(([sid, ses]) => p.sessions.get(sid)?.at(-1)?.used === ses.used);
        }),
      20_000,
      "every panel on the exact totals",
    );
    for (const p of panels) {
      for (const seen of p.sessions.values()) {
        for (let i = 1; i < seen.length; i++)
          if ((seen[i]?.seq ?? 0) <= (seen[i - 1]?.seq ?? 0))
            throw new Error(`${p.accountId}: a panel saw seq go backwards`);
      }
    }
    return {
      events: all.length,
      viaHttp: viaHttp.length,
      denials: panels.filter((p) => p.accountId === opts.scarce).reduce((n, p) => n + p.denied.length, 0),
      panels: panels.length,
    };
  } finally {
    for (const p of panels) p.meter.close();
  }
}
