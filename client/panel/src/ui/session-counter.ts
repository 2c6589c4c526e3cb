import { css, html, nothing, type PropertyValues } from "lit";
import type { SessionUpdate, Stage } from "@creditmeter/shared";
import { STAGES } from "../sdk/stages.js";
import { CountTween } from "./count-tween.js";
import { CreditElement } from "./credit-element.js";
import { MeterController } from "./meter-controller.js";
import { connectionHint } from "./format.js";
import { fill } from "./strings.js";

/**
 * `<credit-session-counter session-id="…">`: "Credits used this session", live, with the
 * breakdown by stage and the credits currently reserved. Numbers count up and never go
 * backwards; while live updates are interrupted the last numbers stay, marked as stale.
 * Parts: `card`, `title`, `reserved`, `used`, `unit`, `stages`, `stage`, `stage-value`, `hint`.
 */
export class CreditSessionCounter extends CreditElement {
  static override properties = {
    ...CreditElement.properties,
    sessionId: { type: String, attribute: "session-id" },
    compact: { type: Boolean, reflect: true },
  };
  static override styles = [
    ...CreditElement.styles,
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
    super.willUpdate(changed);
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
    const text = this.text;
    const reserved = this.update_?.reserved ?? 0;
    return html`<section class="card ${live ? "" : "stale"}" part="card" aria-label=${text.sessionTitle}>
      <div class="head">
        <span class="title" part="title">${text.sessionTitle}</span>
        <span class="reserved" part="reserved" title=${text.reservedTitle}>
          ${reserved > 0 ? html`<span class="num" data-testid="session-reserved">${this.credits(reserved)}</span> ${text.reserved}` : nothing}
        </span>
      </div>
      <div>
        <span class="used num" part="used" data-testid="session-used" aria-hidden="true">${this.credits(this.used.value)}</span
        ><span class="unit" part="unit" aria-hidden="true">${text.creditsUnit}</span>
        <span class="sr-only" aria-live="polite" aria-atomic="true">${fill(text.sessionAnnounce, this.credits(this.used.goal))}</span>
      </div>
      <ul part="stages" aria-label=${text.byStage}>
        ${STAGES.map(
          (stage: Stage) =>
            html`<li part="stage">${text.stages[stage]}<span class="num" part="stage-value" data-testid="session-stage-${stage}"
                >${this.credits(this.stages[stage].value)}</span
              ></li>`,
        )}
      </ul>
      ${live || (this.update_ === null && this.meter.state === "connecting")
        ? nothing
        : html`<div class="hint" part="hint" role="status" data-testid="connection-hint">${connectionHint(this.meter.state, text)}</div>`}
    </section>`;
  }
}

if (!customElements.get("credit-session-counter")) customElements.define("credit-session-counter", CreditSessionCounter);

declare global {
  interface HTMLElementTagNameMap {
    "credit-session-counter": CreditSessionCounter;
  }
}
