import { LitElement, css, html } from "lit";
import { MeterController } from "./meter-controller.js";
import { connectionHint } from "./format.js";
import { theme } from "./theme.js";

/**
 * `<credit-connection-status>`: a small dot and label saying whether the numbers on the page
 * are live ("Live") or the last known ones (reconnecting, offline, signed out).
 */
export class CreditConnectionStatus extends LitElement {
  static override styles = [
    theme,
    css`
      :host {
        display: inline-block;
        font-size: 12px;
      }
      .live {
        display: inline-flex;
        align-items: center;
        gap: 6px;
        color: var(--_muted);
      }
      .live::before {
        content: "";
        width: 7px;
        height: 7px;
        border-radius: 50%;
        background: #22b573;
      }
    `,
  ];

  private readonly meter = new MeterController(this, () => []);

  protected override render(): unknown {
    const state = this.meter.state;
    return state === "connected"
      ? html`<span class="live" data-testid="connection-state" data-state=${state}>Live</span>`
      : html`<span class="hint" role="status" data-testid="connection-state" data-state=${state}>${connectionHint(state)}</span>`;
  }
}

if (!customElements.get("credit-connection-status")) customElements.define("credit-connection-status", CreditConnectionStatus);

declare global {
  interface HTMLElementTagNameMap {
    "credit-connection-status": CreditConnectionStatus;
  }
}
