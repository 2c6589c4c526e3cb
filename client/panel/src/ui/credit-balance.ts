import { LitElement, css, html, nothing } from "lit";
import type { Balance } from "@creditmeter/shared";
import { MeterController } from "./meter-controller.js";
import { connectionHint, formatCredits } from "./format.js";
import { theme } from "./theme.js";

const BOLT = html`<svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true"><path fill="currentColor" d="M13.2 2 4.5 13.4h6.1L9.8 22l8.7-11.4h-6.1L13.2 2z"/></svg>`;

/**
 * `<credit-balance>`: the lightning-bolt button for the bottom of the left sidebar. Hovering or
 * focusing it opens a popover with Available, Used, the usage percentage and a link to the
 * detailed usage page (`usage-href`, default "/usage").
 */
export class CreditBalance extends LitElement {
  static override properties = { usageHref: { type: String, attribute: "usage-href" } };
  static override styles = [
    theme,
    css`
      :host {
        display: inline-block;
        position: relative;
      }
      button {
        display: inline-flex;
        align-items: center;
        gap: 8px;
        font: inherit;
        font-size: 14px;
        font-weight: 600;
        color: var(--_text);
        background: var(--_surface);
        border: 1px solid var(--_border);
        border-radius: 999px;
        padding: 7px 14px 7px 10px;
        cursor: pointer;
      }
      button svg {
        color: var(--_accent);
      }
      button:focus-visible {
        outline: 2px solid var(--_accent);
        outline-offset: 2px;
      }
      .pop {
        position: absolute;
        left: 0;
        bottom: calc(100% + 8px);
        width: 240px;
        background: var(--_surface);
        border: 1px solid var(--_border);
        border-radius: var(--_radius);
        box-shadow: 0 12px 32px rgba(20, 20, 40, 0.14);
        padding: 14px 16px;
        visibility: hidden;
        opacity: 0;
        transform: translateY(4px);
        transition: opacity 0.12s, transform 0.12s, visibility 0.12s;
        z-index: 10;
      }
      @media (prefers-reduced-motion: reduce) {
        .pop {
          transition: none;
        }
      }
      :host(:hover) .pop,
      :host(:focus-within) .pop {
        visibility: visible;
        opacity: 1;
        transform: none;
      }
      /* Bridges the gap so moving the pointer from the button to the popover keeps it open. */
      .pop::after {
        content: "";
        position: absolute;
        left: 0;
        right: 0;
        top: 100%;
        height: 10px;
      }
      dl {
        display: grid;
        grid-template-columns: 1fr auto;
        row-gap: 8px;
        margin: 0;
        font-size: 13px;
      }
      dt {
        color: var(--_muted);
      }
      dd {
        margin: 0;
        font-weight: 600;
        text-align: right;
      }
      .bar {
        height: 6px;
        background: #efeff5;
        border-radius: 3px;
        margin: 12px 0;
        overflow: hidden;
      }
      .bar span {
        display: block;
        height: 100%;
        background: var(--_accent);
      }
      a {
        font-size: 13px;
        color: var(--_accent);
        text-decoration: none;
        font-weight: 600;
      }
      a:hover {
        text-decoration: underline;
      }
      .hint {
        margin-top: 10px;
      }
    `,
  ];

  declare usageHref: string;
  private balance: Balance | null = null;
  private readonly meter = new MeterController(this, (meter) => {
    this.balance = meter.balance;
    return [
      meter.onBalance((balance) => {
        this.balance = balance;
        this.requestUpdate();
      }),
    ];
  });

  constructor() {
    super();
    this.usageHref = "/usage";
  }

  protected override render(): unknown {
    const b = this.balance;
    const live = this.meter.live;
    const value = (n: number | undefined): string => (n === undefined ? "—" : formatCredits(n));
    return html`<div class=${live ? "" : "stale"}>
      <button type="button" aria-describedby="pop" aria-label="Credits: ${value(b?.available)} available">
        ${BOLT}<span class="num">${value(b?.available)}</span>
      </button>
      <div class="pop" id="pop" role="tooltip">
        <dl>
          <dt>Available</dt>
          <dd class="num" data-testid="balance-available">${value(b?.available)}</dd>
          <dt>Used</dt>
          <dd class="num" data-testid="balance-used">${value(b?.used)}</dd>
          <dt>Usage percentage</dt>
          <dd><span class="num" data-testid="balance-percent">${value(b?.usagePercent)}</span>%</dd>
        </dl>
        <div class="bar" aria-hidden="true"><span style="width: ${Math.min(100, b?.usagePercent ?? 0)}%"></span></div>
        <a href=${this.usageHref}>See detailed usage →</a>
        ${live ? nothing : html`<div class="hint" role="status">${connectionHint(this.meter.state)}</div>`}
      </div>
    </div>`;
  }
}

if (!customElements.get("credit-balance")) customElements.define("credit-balance", CreditBalance);

declare global {
  interface HTMLElementTagNameMap {
    "credit-balance": CreditBalance;
  }
}
