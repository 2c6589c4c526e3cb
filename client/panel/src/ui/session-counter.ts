import { css, html, nothing, type PropertyValues } from "lit";
import type { Stage } from "@creditmeter/shared";
import { STAGES } from "../sdk/stages.js";
import type { SessionState } from "../sdk/types.js";
import { BudgetControl, budgetStyles } from "./budget-control.js";
import { CountTween } from "./count-tween.js";
import { CreditElement } from "./credit-element.js";
import { MeterController } from "./meter-controller.js";
import { connectionHint } from "./format.js";
import type { CreditUpgradeDetail } from "./low-credit-banner.js";
import { ShortfallAnnouncer, forecastStyles, renderForecast } from "./session-forecast.js";
import { fill } from "./strings.js";

/**
 * `<credit-session-counter session-id="…">`: "Credits used this session", live, with the
 * breakdown by stage and the credits currently reserved. Numbers count up and never go
 * backwards; while live updates are interrupted the last numbers stay, marked as stale.
 * With a plan (CONTRACT §10): "About N more credits to finish" and, when the account cannot cover
 * it, a warning with "Upgrade plan" (a cancellable `credit-upgrade`, as the banner's, with
 * `reason: "forecast_shortfall"`; `upgrade-url` is the fallback link), announced politely once.
 * With a budget: the credits left of it. A field and buttons set or remove the budget (hidden
 * when `compact`).
 * Parts: `card`, `title`, `reserved`, `used`, `unit`, `stages`, `stage`, `stage-value`, `hint`,
 * `forecast`, `shortfall`, `shortfall-message`, `shortfall-upgrade`, `budget`, `budget-state`,
 * `budget-form`, `budget-label`, `budget-input`, `budget-set`, `budget-remove`, `budget-error`.
 */
export class CreditSessionCounter extends CreditElement {
  static override properties = {
    ...CreditElement.properties,
    sessionId: { type: String, attribute: "session-id" },
    compact: { type: Boolean, reflect: true },
    upgradeUrl: { type: String, attribute: "upgrade-url" },
  };
  static override styles = [
    ...CreditElement.styles,
    forecastStyles,
    budgetStyles,
    css`
      :host {
        display: block;
      }
      .card {
        background: var(--_surface);
        border: 1px solid var(--_border);
        border-radius: var(--_radius);
        padding: 14px 16px;
      }
      .head {
        display: flex;
        justify-content: space-between;
        align-items: baseline;
        gap: 12px;
      }
      .title {
        font-size: 13px;
        color: var(--_muted);
      }
      .used {
        font-size: 28px;
        font-weight: 650;
        letter-spacing: -0.02em;
      }
      .unit {
        font-size: 13px;
        color: var(--_muted);
        margin-left: 4px;
      }
      .reserved {
        font-size: 12px;
        color: var(--_muted);
      }
      ul {
        list-style: none;
        margin: 12px 0 0;
        padding: 0;
        display: grid;
        grid-template-columns: repeat(5, 1fr);
        gap: 6px;
      }
      li {
        background: var(--_surface-2);
        border-radius: 8px;
        padding: 6px 8px;
        font-size: 11px;
        color: var(--_muted);
      }
      li .num {
        display: block;
        font-size: 15px;
        font-weight: 600;
        color: var(--_text);
      }
      :host([compact]) ul {
        display: none;
      }
      .hint {
        margin-top: 8px;
      }
    `,
  ];

  declare sessionId: string;
  declare compact: boolean;
  declare upgradeUrl: string;
  private update_: SessionState | null = null;
  /** The account's available credits as last pushed: a grant moves them without a session update. */
  private available: number | null = null;
  private readonly announcer = new ShortfallAnnouncer();
  private readonly budget = new BudgetControl(this);
  private readonly used = new CountTween(this);
  private readonly stages = Object.fromEntries(STAGES.map((stage) => [stage, new CountTween(this)])) as Record<
    Stage,
    CountTween
  >;
  private readonly meter = new MeterController(this, (meter) => {
    if (!this.sessionId) return [];
    this.available = meter.balance?.available ?? null;
    return [
      meter.watchSession(this.sessionId, (update) => this.take(update)),
      meter.onBalance((balance) => {
        this.available = balance.available;
        this.requestUpdate();
      }),
    ];
  });

  constructor() {
    super();
    this.sessionId = "";
    this.compact = false;
    this.upgradeUrl = "/upgrade";
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    super.willUpdate(changed);
    if (changed.has("sessionId") && changed.get("sessionId") !== undefined) {
      this.update_ = null;
      this.announcer.reset();
      this.budget.reset();
      this.used.reset();
      for (const stage of STAGES) this.stages[stage].reset();
      this.meter.resubscribe();
    }
    // Only the warning's appearance (or new words) changes what the live region says.
    this.announcer.take(this.forecast()?.shortfall ?? 0, this.text, (n) => this.credits(n));
  }

  private take(update: SessionState): void {
    if (update.sessionId !== this.sessionId) return;
    this.update_ = update;
    this.used.set(update.used);
    for (const stage of STAGES) this.stages[stage].set(update.byStage[stage]);
    this.requestUpdate();
  }

  /**
   * The session's forecast with its shortfall against the live balance (the contract's formula,
   * max(0, remaining − available)): a pack bought mid-video changes the account, not the session,
   * so the server pushes no session update for it, and the warning must still go at once.
   */
  private forecast(): SessionState["forecast"] {
    const forecast = this.update_?.forecast ?? null;
    if (!forecast || this.available === null) return forecast;
    return { ...forecast, shortfall: Math.max(0, forecast.remaining - this.available) };
  }

  private upgrade(event: MouseEvent): void {
    const detail: CreditUpgradeDetail = { level: null, url: this.upgradeUrl, reason: "forecast_shortfall" };
    const proceed = this.dispatchEvent(
      new CustomEvent("credit-upgrade", { detail, bubbles: true, composed: true, cancelable: true }),
    );
    if (!proceed) event.preventDefault(); // the host opens its own checkout
  }

  protected override render(): unknown {
    const live = this.meter.live;
    const text = this.text;
    const format = (n: number): string => this.credits(n);
    const reserved = this.update_?.reserved ?? 0;
    return html`<section class="card ${live ? "" : "stale"}" part="card" aria-label=${text.sessionTitle}>
      <div class="head">
        <span class="title" part="title">${text.sessionTitle}</span>
        <span class="reserved" part="reserved" title=${text.reservedTitle}>
          ${reserved > 0 ? html`<span class="num" data-testid="session-reserved">${this.credits(reserved)}</span> ${text.reserved}` : nothing}
        </span>
      </div>
      <div>
        <span class="used num" part="used" data-testid="session-used" aria-hidden="true"
          >${this.credits(this.used.value)}</span
        ><span class="unit" part="unit" aria-hidden="true">${text.creditsUnit}</span>
        <span class="sr-only" aria-live="polite" aria-atomic="true"
          >${fill(text.sessionAnnounce, this.credits(this.used.goal))}</span
        >
      </div>
      <ul part="stages" aria-label=${text.byStage}>
        ${STAGES.map(
          (stage: Stage) =>
            html`<li part="stage">
              ${text.stages[stage]}<span class="num" part="stage-value" data-testid="session-stage-${stage}"
                >${this.credits(this.stages[stage].value)}</span
              >
            </li>`,
        )}
      </ul>
      ${renderForecast({ forecast: this.forecast(), text, credits: format, upgradeUrl: this.upgradeUrl, onUpgrade: (e) => this.upgrade(e) })}
      <span class="sr-only" aria-live="polite" aria-atomic="true" data-testid="forecast-announcement"
        >${this.announcer.message}</span
      >
      ${this.budget.render({ budget: this.update_?.budget ?? null, meter: this.meter.meter, sessionId: this.sessionId, text, credits: format, compact: this.compact })}
      ${
        live || (this.update_ === null && this.meter.state === "connecting")
          ? nothing
          : html`<div class="hint" part="hint" role="status" data-testid="connection-hint">
              ${connectionHint(this.meter.state, text)}
            </div>`
      }
    </section>`;
  }
}

if (!customElements.get("credit-session-counter"))
  customElements.define("credit-session-counter", CreditSessionCounter);

declare global {
  interface HTMLElementTagNameMap {
    "credit-session-counter": CreditSessionCounter;
  }
}
