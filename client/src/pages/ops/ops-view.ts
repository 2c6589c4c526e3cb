import type { OpsAlert, OpsCharge, OpsStats } from "@creditmeter/shared";
import { el } from "../dom.js";

const fmt = (n: number): string => n.toLocaleString("en-US");
const clock = (iso: string): string => new Date(iso).toLocaleTimeString("en-GB", { hour12: false });

function lag(ms: number | null): string {
  if (ms === null) return "–";
  if (ms < 1000) return `${ms} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

function lagClass(ms: number | null): string {
  if (ms === null || ms < 2000) return "ok";
  return ms < 10_000 ? "warn" : "bad";
}

/** Sets text on `[data-testid=id]` inside root (the tiles are in the page markup). */
function setText(root: ParentNode, id: string, text: string): void {
  const node = root.querySelector(`[data-testid="${id}"]`);
  if (node && node.textContent !== text) node.textContent = text;
}

/** Renders the stats tiles and the queue health. */
export function renderTiles(root: ParentNode, stats: OpsStats): void {
  setText(root, "ops-spend-per-minute", fmt(stats.spendPerMinute));
  setText(root, "ops-charges-per-second", stats.chargesPerSecond.toFixed(1));
  setText(root, "ops-active-sessions", fmt(stats.activeSessions));
  setText(root, "ops-queue-waiting", fmt(stats.queue.waiting));
  setText(root, "ops-queue-active", fmt(stats.queue.active));
  setText(root, "ops-queue-failed", fmt(stats.queue.failed));
  setText(root, "ops-lag", lag(stats.queue.lagMs));
  setText(root, "ops-updated", clock(stats.at));
  const health = root.querySelector("[data-testid=ops-queue-health]");
  if (health) health.className = `tile health ${stats.queue.failed > 0 && lagClass(stats.queue.lagMs) === "ok" ? "warn" : lagClass(stats.queue.lagMs)}`;
}

/** A ranked list with proportional bars: rows of [label, sublabel, credits]. */
export function renderRanked(list: HTMLElement, rows: [string, string, number][], empty: string): void {
  const max = Math.max(1, ...rows.map((r) => r[2]));
  const items = rows.map(([label, sub, credits]) => {
    const li = el("li");
    const name = el("span", label, "name");
    if (sub) name.append(el("small", sub));
    const bar = el("span", "", "bar");
    const fill = el("i");
    fill.style.width = `${Math.max(2, (credits / max) * 100)}%`;
    bar.append(fill);
    li.append(name, bar, el("span", fmt(credits), "num"));
    return li;
  });
  list.replaceChildren(...(items.length > 0 ? items : [el("li", empty, "empty")]));
}

/** Top sessions, top accounts, by action and by model. */
export function renderTops(root: ParentNode, stats: OpsStats): void {
  const list = (id: string): HTMLElement | null => root.querySelector<HTMLElement>(`[data-testid="${id}"]`);
  const sorted = (rec: Record<string, number>): [string, string, number][] =>
    Object.entries(rec)
      .filter(([, v]) => v > 0)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => [k, "", v]);
  const sessions = list("ops-top-sessions");
  if (sessions) renderRanked(sessions, stats.topSessions.map((s) => [s.sessionId, s.accountId, s.credits]), "No spend in the last 5 minutes");
  const accounts = list("ops-top-accounts");
  if (accounts) renderRanked(accounts, stats.topAccounts.map((a) => [a.accountId, "", a.credits]), "No spend in the last 5 minutes");
  const actions = list("ops-by-action");
  if (actions) renderRanked(actions, sorted(stats.byAction), "–");
  const models = list("ops-by-model");
  if (models) renderRanked(models, sorted(stats.byModel), "–");
}

/** The live charge ticker, newest first. */
export function renderCharges(list: HTMLElement, charges: readonly OpsCharge[]): void {
  const rows = [...charges].reverse().map((c) => {
    const li = el("li");
    li.append(
      el("span", clock(c.at), "time"),
      el("span", c.action, `chip ${c.stage}`),
      el("span", `${c.accountId} / ${c.sessionId}`, "who"),
      el("span", c.model ?? "", "model"),
      el("span", `${fmt(c.amount)} cr`, "num"),
    );
    return li;
  });
  list.replaceChildren(...(rows.length > 0 ? rows : [el("li", "Waiting for charges…", "empty")]));
}

const ALERT_LABEL: Record<OpsAlert["kind"], string> = { low_balance: "Low balance", denied: "Denied", rejected: "Rejected" };

/** The alert feed, newest first. */
export function renderAlerts(list: HTMLElement, alerts: readonly OpsAlert[]): void {
  const rows = alerts.map((a) => {
    const li = el("li", "", a.kind);
    const who = [a.accountId, a.sessionId].filter((x) => x !== null).join(" / ");
    li.append(el("span", ALERT_LABEL[a.kind], "tag"), el("span", who, "who"), el("span", a.message, "msg"), el("span", clock(a.at), "time"));
    return li;
  });
  list.replaceChildren(...(rows.length > 0 ? rows : [el("li", "No alerts", "empty")]));
}
