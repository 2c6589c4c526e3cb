import { css, html } from "lit";
import { CreditElement } from "./credit-element.js";
import { MeterController } from "./meter-controller.js";
import { connectionHint } from "./format.js";

/**
 * `<credit-connection-status>`: a small dot and label saying whether the numbers on the page
 * are live ("Live") or the last known ones (reconnecting, offline, signed out). A polite live
 * region, so a change is announced. Parts: `status`.
 */
export class CreditConnectionStatus extends CreditElement {
  static override styles = [
    ...CreditElement.styles,
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
        background: var(--_live);
      }
    `,
  ];

  private readonly meter = new MeterController(this, () => []);

  protected override render(): unknown {
    const state = this.meter.state;
    const live = state === "connected";
    return html`<span class=${live ? "live" : "hint"} part="status" role="status" data-testid="connection-state" data-state=${state}
      >${live ? this.text.live : connectionHint(state, this.text)}</span
    >`;
  }
}

if (!customElements.get("credit-connection-status")) customElements.define("credit-connection-status", CreditConnectionStatus);

declare global {
  interface HTMLElementTagNameMap {
    "credit-connection-status": CreditConnectionStatus;
  }
}
