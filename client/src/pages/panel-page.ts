// `/`: the demo Agentic Mode chat panel (CONTRACT §9).
import { configureCreditMeter, formatCredits } from "@creditmeter/panel";
import type { SessionState } from "@creditmeter/panel";
import type { SessionUpdate, StageDenied, StageProgress } from "@creditmeter/shared";
import { ApiClient } from "./api-client.js";
import { byId, el, showError } from "./dom.js";
import { resolveAuth } from "./page-auth.js";
import { nextDemoSession, sessionFromUrl } from "./session-param.js";

const STAGE_VERBS: Record<string, string> = {
  research: "Researching",
  storyboard: "Storyboarding",
  keyframes: "Rendering keyframes",
  animation: "Animating",
  voiceover: "Recording audio",
};

/** The chat's activity feed: one bubble per step, updated as progress and charges arrive. */
class ActivityFeed {
  private readonly steps = new Map<string, HTMLElement>();
  /** Steps with progress but no charge yet, by action: a charge closes the oldest of its action. */
  private readonly open = new Map<string, HTMLElement[]>();
  private lastSeenEvent: string | null = null;

  constructor(private readonly list: HTMLOListElement) {}

  progress(p: StageProgress): void {
    const item = this.item(p.stepId);
    const open = this.open.get(p.action) ?? [];
    if (!open.includes(item)) this.open.set(p.action, [...open, item]);
    item.replaceChildren(
      el("div", `${STAGE_VERBS[p.stage] ?? p.stage} · ${p.action.replace(/_/g, " ")}`),
      Object.assign(document.createElement("progress"), { max: 1, value: p.progress }),
    );
  }

  charged(update: SessionUpdate): void {
    const last = update.last;
    if (!last || last.eventId === this.lastSeenEvent) return;
    this.lastSeenEvent = last.eventId;
    const item = this.open.get(last.action)?.shift() ?? this.list.appendChild(el("li"));
    const credits = `${formatCredits(last.amount)} credit${last.amount === 1 ? "" : "s"}`;
    item.replaceChildren(el("div", `✓ ${last.action.replace(/_/g, " ")}`), el("div", credits, "meta"));
  }

  denied(d: StageDenied): void {
    const item = this.item(d.stepId);
    const action = d.action.replace(/_/g, " ");
    item.className = "denied";
    item.dataset["reason"] = d.reason;
    // A budget the person set stops the step even when the account has the credits (CONTRACT §10).
    item.replaceChildren(
      el(
        "div",
        d.reason === "session_budget"
          ? `Over this session's budget: ${action} not started`
          : `Not enough credits for ${action}`,
      ),
      el(
        "div",
        d.reason === "session_budget"
          ? `needs ${formatCredits(d.required)}; raise or remove the budget to go on`
          : `needs ${formatCredits(d.required)}, ${formatCredits(d.available)} available`,
        "meta",
      ),
    );
  }

  private item(stepId: string): HTMLElement {
    let item = this.steps.get(stepId);
    if (!item) {
      item = el("li");
      this.steps.set(stepId, item);
      this.list.append(item);
    }
    return item;
  }
}

async function main(): Promise<void> {
  let sessionId = sessionFromUrl(location.search);
  const counter = byId("counter", HTMLElement);
  const show = (id: string): void => {
    byId("session-label", HTMLElement).textContent = id;
    counter.setAttribute("session-id", id);
  };
  show(sessionId);

  const auth = await resolveAuth();
  const meter = configureCreditMeter({ url: "", token: auth.token });
  let feed = new ActivityFeed(byId("activity", HTMLOListElement));
  let latest: SessionState | null = null;
  const watch = (id: string): (() => void) =>
    meter.watchSession(id, (update) => {
      latest = update;
      feed.charged(update);
    });
  let unwatch = watch(sessionId);
  meter.onProgress((p) => {
    if (p.sessionId === sessionId) feed.progress(p);
  });
  meter.onDenied((d) => {
    if (d.sessionId === sessionId) feed.denied(d);
  });

  /** Moves the page to another session: the counter, the feed and the URL follow. */
  const switchTo = (next: string): void => {
    unwatch();
    sessionId = next;
    latest = null;
    history.replaceState(null, "", `?session=${encodeURIComponent(next)}`);
    show(next);
    byId("activity", HTMLOListElement).replaceChildren();
    feed = new ActivityFeed(byId("activity", HTMLOListElement));
    unwatch = watch(next);
  };

  // The demo button exists on development servers only (GET /dev answers there).
  const dev = await fetch("/dev").then(
    (r) => r.ok,
    () => false,
  );
  if (!dev) return;
  const button = byId("run-demo", HTMLButtonElement);
  const api = new ApiClient(auth.token);
  button.hidden = false;
  button.addEventListener("click", () => {
    button.disabled = true;
    startDemo().then(
      () => setTimeout(() => (button.disabled = false), 3000),
      (err: unknown) => {
        button.disabled = false;
        showError(err);
      },
    );
  });

  /**
   * A demo run plans a whole video; a session that already has charges would count them against
   * that plan, so the run gets a fresh session (the page follows it), with the budget the person
   * set carried over.
   */
  async function startDemo(): Promise<void> {
    const before = latest;
    if (before && before.used + before.reserved > 0) {
      switchTo(nextDemoSession(sessionId, Date.now()));
      if (before.budget) await meter.setBudget(sessionId, before.budget.credits);
    }
    await api.startDemo(sessionId);
  }
}

main().catch(showError);
