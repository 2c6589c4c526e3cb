/**
 * Generates a history from one seed: accounts, plans, cycles, packs, adjustments, the steps of
 * sessions of every action and model, and how their events reach the ledger (in order or not,
 * repeated, in batches of every size, re-applied after a consumer crash, reused with another
 * body), with the virtual clock jumping past hold lifetimes and cycle ends. Nothing here looks at
 * the ledger or the model: the same seed always gives the same history.
 */
import type { StageEvent } from "@creditmeter/shared";
import { Rng } from "./prng.js";
import { ACTIONS, PLANS, PRICES, type Action, type Plan } from "./model/prices.js";
import type { History, Op } from "./ops.js";

export interface GenerateOptions {
  seed: number;
  steps: number;
  /** Allow `restart` operations (only where the run owns its redis-server). */
  restarts: boolean;
}

/** 2026-01-01T00:00:00Z: a fixed origin, so a replay sees the very same times. */
const ORIGIN = Date.UTC(2026, 0, 1);
const MIN = 60_000;
const HOUR = 3_600_000;

interface World {
  rng: Rng;
  now: number;
  ops: Op[];
  /** `wealth` scales what an account is granted: poor accounts run into denials and overdraft. */
  accounts: { id: string; plan: Plan; sessions: number; cycleStart: number | null; wealth: number }[];
  pending: StageEvent[];
  /** Retries held back until credits are next granted (a worker retrying after a top-up). */
  deferred: Map<string, StageEvent[]>;
  /** Ends of slow steps, held back until the clock next moves (work that takes a while). */
  slow: StageEvent[];
  delivered: StageEvent[];
  grants: Op[];
  /** Budget calls made so far: some are sent again (a retried PUT). */
  budgets: Op[];
  ids: number;
  restarts: boolean;
}

function nextId(w: World, prefix: string): string {
  w.ids += 1;
  return `${prefix}${w.ids}`;
}

function quantities(rng: Rng, action: Action): Pick<StageEvent, "model" | "scenes" | "seconds"> {
  const p = PRICES[action];
  if (p.unit === "scene") return { scenes: rng.int(1, 5) };
  if (p.unit !== "second") return {};
  const seconds = rng.chance(0.5) ? rng.int(1, 12) : Math.round(rng.float() * 1200) / 100 + 0.01;
  const model = p.models ? { model: rng.pick(Object.keys(p.models)) } : {};
  if (p.minimumReservation && rng.chance(0.4)) return model;
  return { ...model, seconds };
}

/** A new step of some session: its started, maybe progress and a retry, then completed, failed or nothing. */
function newStep(w: World): void {
  const { rng } = w;
  const acct = rng.pick(w.accounts);
  const sessionId = `s${rng.int(1, acct.sessions)}`;
  const stepId = nextId(w, "st");
  const action = rng.pick(ACTIONS);
  const at = new Date(w.now).toISOString();
  const base = { v: 1 as const, accountId: acct.id, sessionId, stepId, action, occurredAt: at };
  const q = quantities(rng, action);
  const chain: StageEvent[] = [{ ...base, eventId: nextId(w, "e"), type: "stage.started", ...q }];
  for (let i = rng.int(0, 2); i > 0; i--)
    chain.push({ ...base, eventId: nextId(w, "e"), type: "stage.progress", progress: rng.float() });
  // A retry with a new eventId: a worker that was denied tries again (or repeats a granted one),
  // at once or after the next grant, and then reports its end.
  const retry = rng.chance(0.5) ? ({ ...chain[0], eventId: `${chain[0]?.eventId ?? "e"}-a2` } as StageEvent) : null;
  const later = retry !== null && rng.chance(0.6);
  if (retry && !later) chain.push(retry);
  const end = rng.weighted([
    [70, "completed"],
    [15, "failed"],
    [15, "none"],
  ] as const);
  if (end === "completed") {
    const actual = PRICES[action].unit === "second" ? { seconds: rng.int(1, 15) + (rng.chance(0.3) ? 0.5 : 0) } : {};
    chain.push({ ...base, eventId: nextId(w, "e"), type: "stage.completed", ...q, ...actual });
  } else if (end === "failed") {
    chain.push({ ...base, eventId: nextId(w, "e"), type: "stage.failed", reason: "worker gave up" });
  }
  if (end !== "none" && rng.chance(0.1))
    chain.push({ ...base, eventId: nextId(w, "e"), type: "stage.progress", progress: 1 });
  if (retry && later) {
    // started (and its progress) now; the retry and the end after the account's next grant.
    const first = chain.filter((e) => e.type === "stage.started" || (e.type === "stage.progress" && e.progress !== 1));
    w.pending.push(...first);
    w.deferred.set(acct.id, [...(w.deferred.get(acct.id) ?? []), retry, ...chain.filter((e) => !first.includes(e))]);
    return;
  }
  if (rng.chance(0.3)) {
    // A slow step: its end comes after the clock has moved (while credits may vanish under it).
    const at = chain.findIndex((e) => e.type === "stage.completed" || e.type === "stage.failed");
    if (at > 0) {
      w.pending.push(...chain.slice(0, at));
      w.slow.push(...chain.slice(at));
      return;
    }
  }
  w.pending.push(...chain);
}

function batchSize(rng: Rng): number {
  return rng.weighted([
    [40, () => 1],
    [35, () => rng.int(2, 5)],
    [20, () => rng.int(6, 20)],
    [5, () => rng.int(21, 60)],
  ] as const)();
}

/** Delivers a batch: mostly oldest first, some taken out of order, some delivered again. */
function deliver(w: World): void {
  const { rng } = w;
  const size = batchSize(rng);
  const events: StageEvent[] = [];
  for (let i = 0; i < size && w.pending.length > 0; i++) {
    // Reorders: usually the front, sometimes a few places back (completed before started, ...).
    const reach = rng.chance(0.25) ? Math.min(w.pending.length, rng.int(2, 8)) : 1;
    const [e] = w.pending.splice(rng.int(0, reach - 1), 1);
    if (!e) break;
    events.push(e);
    w.delivered.push(e);
    if (rng.chance(0.05)) events.push(e); // the same event twice in one batch
  }
  if (w.delivered.length > 0 && rng.chance(0.1)) events.push(rng.pick(w.delivered)); // a redelivery
  if (events.length > 0) w.ops.push({ op: "batch", events, crash: rng.chance(0.06) });
}

/** The same eventId with a different body (CONTRACT §2 v1.1: a conflict, not a duplicate). */
function reuse(w: World): void {
  const { rng } = w;
  if (w.delivered.length === 0) return;
  const e = rng.pick(w.delivered);
  let changed: StageEvent;
  if (e.seconds !== undefined) changed = { ...e, seconds: e.seconds + 20 };
  else if (e.scenes !== undefined) changed = { ...e, scenes: e.scenes + 1 };
  else changed = { ...e, stepId: `${e.stepId}x` };
  w.ops.push({ op: "batch", events: [changed], crash: false });
}

function grant(w: World): void {
  const { rng } = w;
  const acct = rng.chance(0.03)
    ? { id: "ghost", plan: "free" as Plan, sessions: 1, cycleStart: null, wealth: 1 }
    : rng.pick(w.accounts);
  // An account with retries waiting gets a top-up pack, and the retries come right after it.
  const topUp = w.deferred.has(acct.id) && rng.chance(0.7);
  const kind = topUp
    ? "pack"
    : rng.weighted([
        [30, "cycle"],
        [30, "pack"],
        [30, "adjust"],
        [10, "again"],
      ] as const);
  let op: Op;
  if (kind === "again" && w.grants.length > 0) {
    const first = rng.pick(w.grants);
    // A repeat (same body), or the same id with another body (a 409).
    if (rng.chance(0.7)) op = first;
    else if (first.op === "cycle") op = { ...first, credits: first.credits + 1 };
    else if (first.op === "pack") op = { ...first, credits: first.credits + 1 };
    else if (first.op === "adjust") op = { ...first, reason: `${first.reason}!` };
    else return;
  } else if (kind === "cycle") {
    const late = acct.cycleStart !== null && rng.chance(0.15);
    const prev = acct.cycleStart ?? w.now - 30 * MIN;
    const start = late
      ? prev - rng.int(1, 120) * MIN
      : Math.max(prev + 1000, w.now - rng.int(0, 60) * MIN + (rng.chance(0.1) ? rng.int(1, 30) * MIN : 0));
    if (!late) acct.cycleStart = start;
    op = {
      op: "cycle",
      accountId: acct.id,
      cycleId: nextId(w, "c"),
      credits: Math.round(rng.int(0, 500) * acct.wealth),
      start,
      end: start + rng.int(1, 8) * HOUR,
    };
  } else if (kind === "pack") {
    op = {
      op: "pack",
      accountId: acct.id,
      packId: nextId(w, "p"),
      credits: topUp ? rng.int(200, 1000) : Math.max(1, Math.round(rng.int(1, 300) * acct.wealth)),
    };
  } else {
    // Debits: small corrections, and now and then a chargeback that takes most of the credits.
    const debit = rng.chance(0.4) ? rng.int(200, 3000) : rng.int(1, 150);
    const credits = rng.chance(0.5) ? -debit : rng.int(1, 150);
    if (credits < -150 && acct.id !== "ghost") {
      // A chargeback while work is running: a hold is open when the credits vanish under it.
      const stepId = nextId(w, "st");
      const started: StageEvent = {
        v: 1,
        eventId: nextId(w, "e"),
        type: "stage.started",
        accountId: acct.id,
        sessionId: "s1",
        stepId,
        action: "talking_head",
        seconds: rng.int(1, 8),
        occurredAt: new Date(w.now).toISOString(),
      };
      w.ops.push({ op: "batch", events: [started], crash: false });
      w.slow.push({ ...started, eventId: nextId(w, "e"), type: "stage.completed" });
    }
    op = {
      op: "adjust",
      accountId: acct.id,
      adjustmentId: nextId(w, "a"),
      credits,
      reason: credits < 0 ? "debit" : "refund",
    };
  }
  w.grants.push(op);
  w.ops.push(op);
  if ((op.op === "cycle" || op.op === "pack" || op.op === "adjust") && (op.op !== "adjust" || op.credits > 0)) {
    w.pending.unshift(...(w.deferred.get(op.accountId) ?? []));
    w.deferred.delete(op.accountId);
  }
}

/** A session budget set, removed, or sent again (CONTRACT §10), now and then on no account. */
function budget(w: World): void {
  const { rng } = w;
  if (w.budgets.length > 0 && rng.chance(0.15)) {
    w.ops.push(rng.pick(w.budgets));
    return;
  }
  const acct = rng.chance(0.03) ? { id: "ghost", sessions: 1 } : rng.pick(w.accounts);
  const credits = rng.weighted([
    [25, (): number | null => null],
    [5, () => 0],
    [25, () => rng.int(1, 100)],
    [45, () => rng.int(100, 3000)],
  ] as const)();
  const op: Op = { op: "budget", accountId: acct.id, sessionId: `s${rng.int(1, acct.sessions)}`, credits };
  w.budgets.push(op);
  w.ops.push(op);
}

function tick(w: World): void {
  const { rng } = w;
  const what = rng.weighted([
    [24, "step"],
    [36, "deliver"],
    [3, "reuse"],
    [12, "clock"],
    [12, "grant"],
    [4, "read"],
    [2, "dismiss"],
    [2, "plan"],
    [1, "ghost-event"],
    [1, "restart"],
    [2, "budget"],
  ] as const);
  if (what === "step") newStep(w);
  else if (what === "deliver") deliver(w);
  else if (what === "reuse") reuse(w);
  else if (what === "clock") {
    const ms = rng.weighted([
      [50, () => rng.int(1, 60) * 1000],
      [35, () => rng.int(1, 20) * MIN],
      [15, () => rng.int(30, 150) * MIN],
    ] as const)();
    // Virtual time stays within the idempotency retention (30 days): Redis forgets eventIds by real time.
    if (w.now + ms < ORIGIN + 20 * 24 * HOUR) {
      w.now += ms;
      w.ops.push({ op: "clock", ms });
      w.pending.push(...w.slow.splice(0));
    }
  } else if (what === "grant") grant(w);
  else if (what === "read") w.ops.push({ op: "read", accountId: rng.pick(w.accounts).id });
  else if (what === "dismiss")
    w.ops.push({
      op: "dismiss",
      accountId: rng.pick(w.accounts).id,
      level: rng.pick(["low", "critical", "exhausted"] as const),
    });
  else if (what === "plan") {
    const acct = rng.pick(w.accounts);
    acct.plan = rng.pick(PLANS);
    w.ops.push({ op: "account", accountId: acct.id, plan: acct.plan });
  } else if (what === "budget") budget(w);
  else if (what === "ghost-event") {
    w.ops.push({
      op: "batch",
      events: [
        {
          v: 1,
          eventId: nextId(w, "e"),
          type: "stage.started",
          accountId: "ghost",
          sessionId: "s1",
          stepId: "st0",
          action: "script",
          occurredAt: new Date(w.now).toISOString(),
        },
      ],
      crash: false,
    });
  } else if (w.restarts) {
    w.ops.push({ op: "restart" });
  }
}

/** The history of a seed: `steps` operations. */
export function generate(opts: GenerateOptions): History {
  const rng = new Rng(opts.seed);
  const w: World = {
    rng,
    now: ORIGIN,
    ops: [],
    accounts: [],
    pending: [],
    deferred: new Map(),
    slow: [],
    delivered: [],
    grants: [],
    budgets: [],
    ids: 0,
    restarts: opts.restarts,
  };
  const holdTtlSeconds = rng.pick([600, 1800, 3600]);
  const n = rng.int(1, 4);
  for (let i = 0; i < n; i++) {
    const acct = {
      id: `acct${i}`,
      plan: rng.pick(PLANS),
      sessions: rng.int(1, 3),
      cycleStart: null as number | null,
      wealth: rng.pick([0.3, 1, 1, 3]),
    };
    w.accounts.push(acct);
    w.ops.push({ op: "account", accountId: acct.id, plan: acct.plan });
    if (rng.chance(0.8)) {
      const start = w.now - rng.int(0, 60) * MIN;
      acct.cycleStart = start;
      const op: Op = {
        op: "cycle",
        accountId: acct.id,
        cycleId: nextId(w, "c"),
        credits: Math.round(rng.int(20, 500) * acct.wealth),
        start,
        end: start + rng.int(1, 8) * HOUR,
      };
      w.grants.push(op);
      w.ops.push(op);
    }
  }
  while (w.ops.length < opts.steps) tick(w);
  return { seed: opts.seed, start: ORIGIN, holdTtlSeconds, ops: w.ops.slice(0, opts.steps) };
}
