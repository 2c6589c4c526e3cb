import { LitElement, css, html, nothing, type PropertyValues } from "lit";
import type { SessionUpdate, Stage } from "@creditmeter/shared";
import { STAGES } from "../sdk/stages.js";
import { CountTween } from "./count-tween.js";
import { MeterController } from "./meter-controller.js";
import { connectionHint, formatCredits } from "./format.js";
import { theme } from "./theme.js";

const STAGE_LABELS: Record<Stage, string> = {
  research: "Research",
  storyboard: "Storyboard",
  keyframes: "Keyframes",
  animation: "Animation",
  voiceover: "Voiceover",
};

/**
 * `<credit-session-counter session-id="…">`: "Credits used this session", live, with the
 * breakdown by stage and the credits currently reserved. Numbers count up and never go
 * backwards; while live updates are interrupted the last numbers stay, marked as stale.
 */
export class CreditSessionCounter extends LitElement {
  static override properties = {
    sessionId: { type: String, attribute: "session-id" },
    compact: { type: Boolean, reflect: true },
  };
  static override styles = [
    theme,
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
        background: #f6f6fa;
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
  private update_: SessionUpdate | null = null;
  private readonly used = new CountTween(this);
  private readonly stages = Object.fromEntries(STAGES.map((stage) => [stage, new CountTween(this)])) as Record<Stage, CountTween>;
  private readonly meter = new MeterController(this, (meter) => {
    if (!this.sessionId) return [];
    return [meter.watchSession(this.sessionId, (update) => this.take(update))];
  });

  constructor() {
    super();
    this.sessionId = "";
    this.compact = false;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has("sessionId") && changed.get("sessionId") !== undefined) {
      this.update_ = null;
      this.used.reset();
      for (const stage of STAGES) this.stages[stage].reset();
      this.meter.resubscribe();
    }
  }

  private take(update: SessionUpdate): void {
    if (update.sessionId !== this.sessionId) return;
    this.update_ = update;
    this.used.set(update.used);
    for (const stage of STAGES) this.stages[stage].set(update.byStage[stage]);
    this.requestUpdate();
  }

  protected override render(): unknown {
    const live = this.meter.live;
    const reserved = this.update_?.reserved ?? 0;
    return html`<section class="card ${live ? "" : "stale"}" aria-label="Credits used this session">
      <div class="head">
        <span class="title">Credits used this session</span>
        <span class="reserved" title="Held for steps in progress; charged or released when they finish">
          ${reserved > 0 ? html`<span class="num" data-testid="session-reserved">${formatCredits(reserved)}</span> reserved` : nothing}
        </span>
      </div>
      <div>
        <span class="used num" data-testid="session-used" aria-hidden="true">${formatCredits(this.used.value)}</span><span class="unit" aria-hidden="true">credits</span>
        <span class="sr-only" aria-live="polite" aria-atomic="true">${formatCredits(this.used.goal)} credits used this session</span>
      </div>
      <ul aria-label="By stage">
        ${STAGES.map(
          (stage) => html`<li>${STAGE_LABELS[stage]}<span class="num" data-testid="session-stage-${stage}">${formatCredits(this.stages[stage].value)}</span></li>`,
        )}
      </ul>
      ${live || this.update_ === null && this.meter.state === "connecting"
        ? nothing
        : html`<div class="hint" role="status" data-testid="connection-hint">${connectionHint(this.meter.state)}</div>`}
    </section>`;
  }
}

if (!customElements.get("credit-session-counter")) customElements.define("credit-session-counter", CreditSessionCounter);

declare global {
  interface HTMLElementTagNameMap {
    "credit-session-counter": CreditSessionCounter;
  }
}
