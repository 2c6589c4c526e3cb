import { z } from "zod";
import {
  ActionId,
  AlertLevel,
  STAGES,
  usagePercent,
  type Balance,
  type Bucket,
  type SessionBudget,
  type SessionSnapshot,
  type SessionUpdate,
} from "@creditmeter/shared";
import { sessionForecast, type AccountSide } from "./forecast-view.js";

/** A number as Lua sends it (totals are decimal strings: cjson keeps only 14 significant digits). */
export const n = z.coerce.number();
/** A list from Lua: cjson encodes an empty table as {}, so a list may arrive as an object. */
export const list = <T extends z.ZodType>(item: T) =>
  z.union([
    z.array(item),
    z
      .object({})
      .strict()
      .transform(() => []),
  ]) as unknown as z.ZodType<z.infer<T>[]>;

const RawPack = z.object({ id: z.string(), kind: z.enum(["pack", "adjustment"]), granted: n, rem: n });

/** The account as the Lua scripts report it (see lua/lib/context.lua `account_view`). */
export const RawAccount = z.object({
  plan: z.enum(["free", "plus", "pro"]),
  seq: n,
  created: n,
  sub_id: z.string(),
  sub_granted: n,
  sub_rem: n,
  sub_start: n,
  sub_end: n,
  packs: list(RawPack),
  held: n,
  overdraft: n,
  used: n,
  alert: z.object({ level: AlertLevel, credits: n }).optional(),
  alert_dismissed: z.string(),
});
export type RawAccount = z.infer<typeof RawAccount>;

/** A session hash as HGETALL returns it (all strings, fields absent until first set). */
export const RawSession = z.record(z.string(), z.string());

/** The JSON reply of every account script (apply-events-4a has its own: event-batch.ts). */
export const ScriptReply = z.object({
  error: z.enum(["unknown_account", "conflict"]).optional(),
  /** Why a conflict: absent for an id reused with another body; `older_cycle` (start-cycle-5). */
  reason: z.literal("older_cycle").optional(),
  /** The current cycleId, when a cycle was refused as older. */
  current: z.string().optional(),
  now: n.optional(),
  changed: z.boolean().optional(),
  account: RawAccount.optional(),
  deadline: z.string().optional(),
  sessions: z.record(z.string(), RawSession).optional(),
  /** The session a script was about (set-budget-5, set-plan-6, read-session-5), as it stands after it. */
  session: RawSession.optional(),
  /** C of lua/lib/burn.lua, when the script charged or answers for a planned session. */
  burn: n.optional(),
  /** set-budget-5: the budget set is already used up, so it was reached by this call. */
  budget_reached: z.boolean().optional(),
  alert: z.object({ level: AlertLevel, threshold: n, available: n }).optional(),
  repeat: z.boolean().optional(),
  /** What this call raised, as kept in its record until queued (lua/lib/raised.lua; grants, set-budget-5). */
  raised: z.string().optional(),
  /**
   * What earlier calls raised and their record still owes (not marked queued), in the same text:
   * one for a grant's repeat, a list (oldest first) for the account's or a session's pending raises.
   */
  owed: z.union([z.string(), z.array(z.string())]).optional(),
  /** start-cycle-5: audit entries without a running total must be summed first (legacy-used.ts). */
  needs_legacy_sum: z.boolean().optional(),
  /** start-cycle-5: `start` lies below the trim marker `trimmed`; sum the archived charges first. */
  needs_archive_sum: z.boolean().optional(),
  trimmed: n.optional(),
});
export type ScriptReply = z.infer<typeof ScriptReply>;

const iso = (ms: number): string => new Date(ms).toISOString();

/** Available credits: Σ bucket remainders − open holds. */
export function availableOf(a: RawAccount): number {
  return Math.max(0, a.sub_rem + a.packs.reduce((s, p) => s + p.rem, 0) - a.held);
}

/** The account side of a session's forecast in a script's reply (`burn` absent: nothing charged lately, C = 0). */
export function accountSide(a: RawAccount, burn: number | undefined): AccountSide {
  return { plan: a.plan, available: availableOf(a), charged5m: burn ?? 0 };
}

/** The public balance (CONTRACT §4) of a raw account. */
export function toBalance(accountId: string, a: RawAccount): Balance {
  const available = availableOf(a);
  const buckets: Bucket[] = [];
  if (a.sub_id) {
    buckets.push({
      id: a.sub_id,
      kind: "subscription",
      granted: a.sub_granted,
      remaining: a.sub_rem,
      expiresAt: iso(a.sub_end),
    });
  }
  for (const p of a.packs) {
    if (p.rem > 0) buckets.push({ id: p.id, kind: p.kind, granted: p.granted, remaining: p.rem, expiresAt: null });
  }
  return {
    accountId,
    plan: a.plan,
    available,
    used: a.used,
    held: a.held,
    overdraft: a.overdraft,
    usagePercent: usagePercent(a.used, a.held, available),
    cycle: a.sub_id ? { cycleId: a.sub_id, start: iso(a.sub_start), end: iso(a.sub_end) } : null,
    buckets,
    alert: a.alert ? { level: a.alert.level, threshold: a.alert.credits, dismissed: a.alert_dismissed !== "" } : null,
    seq: a.seq,
  };
}

const LastJson = z.object({ eventId: z.string(), action: ActionId, amount: n, at: n });

/** The session's budget (CONTRACT §10) from its hash fields (lua/lib/session.lua); null when it has none. */
export function budgetOf(raw: Record<string, string>, used: number, reserved: number): SessionBudget | null {
  if (raw.budget === undefined || raw.budget === "") return null;
  const credits = Number(raw.budget);
  const reached = raw.budget_reached ?? "";
  return {
    credits,
    remaining: Math.max(0, credits - used - reserved),
    reachedAt: reached === "" ? null : iso(Number(reached)),
  };
}

/** A numeric field of a session hash, 0 when absent. */
function numberIn(raw: Record<string, string>, field: string): number {
  return Number(raw[field] ?? 0);
}

/**
 * A session snapshot (CONTRACT §4) with its latest charge, from its hash; zeros when empty. Its
 * forecast (§10) needs the account `side` read by the same script (null: no forecast).
 */
export function toSession(
  accountId: string,
  sessionId: string,
  raw: Record<string, string>,
  side: AccountSide | null,
): SessionUpdate {
  const byStage = Object.fromEntries(STAGES.map((s) => [s, numberIn(raw, s)])) as SessionSnapshot["byStage"];
  const last = raw.last ? LastJson.parse(JSON.parse(raw.last)) : null;
  const used = numberIn(raw, "used");
  const reserved = numberIn(raw, "reserved");
  return {
    accountId,
    sessionId,
    used,
    reserved,
    byStage,
    seq: numberIn(raw, "seq"),
    budget: budgetOf(raw, used, reserved),
    forecast: sessionForecast(raw.planned, used, reserved, side),
    last: last ? { eventId: last.eventId, action: last.action, amount: last.amount, at: iso(last.at) } : null,
  };
}
