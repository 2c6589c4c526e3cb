import { css, html, nothing } from "lit";
import type { Balance } from "@creditmeter/shared";
import { CreditElement } from "./credit-element.js";
import { MeterController } from "./meter-controller.js";
import { connectionHint } from "./format.js";
import { fill } from "./strings.js";

const BOLT = html`<svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true"><path fill="currentColor" d="M13.2 2 4.5 13.4h6.1L9.8 22l8.7-11.4h-6.1L13.2 2z"/></svg>`;

/**
 * `<credit-balance>`: the lightning-bolt button for the bottom of the left sidebar. It discloses
 * (WAI-ARIA disclosure pattern: a button with aria-expanded; click or tap toggles, Escape closes
 * and returns focus to the button, a click outside closes) a popover with Available, Used, the
 * usage percentage and a link to the detailed usage page (`usage-href`, default "/usage"), next
 * in the tab order after the button. `open` reflects whether it is shown.
 * Parts: `root`, `button`, `icon`, `button-value`, `popover`, `list`, `label`, `value`, `bar`, `bar-fill`, `link`, `hint`.
 */
export class CreditBalance extends CreditElement {
  static override properties = {
    ...CreditElement.properties,
    usageHref: { type: String, attribute: "usage-href" },
    open: { type: Boolean, reflect: true },
  };
  static override styles = [
    ...CreditElement.styles,
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
      .pop {
        position: absolute;
        left: 0;
        bottom: calc(100% + 8px);
        width: 240px;
        background: var(--_surface);
        border: 1px solid var(--_border);
        border-radius: var(--_radius);
        box-shadow: var(--_shadow);
        padding: 14px 16px;
        z-index: 10;
      }
      .pop[hidden] {
        display: none;
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
        background: var(--_surface-2);
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
  declare open: boolean;
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
    this.open = false;
  }

  // A click anywhere outside closes the popover; composedPath sees through shadow roots.
  private readonly onDocumentClick = (event: MouseEvent): void => {
    if (this.open && !event.composedPath().includes(this)) this.open = false;
  };

  override connectedCallback(): void {
    super.connectedCallback();
    this.ownerDocument.addEventListener("click", this.onDocumentClick);
  }

  override disconnectedCallback(): void {
    this.ownerDocument.removeEventListener("click", this.onDocumentClick);
    super.disconnectedCallback();
  }

  private onKeydown(event: KeyboardEvent): void {
    if (event.key !== "Escape" || !this.open) return;
    event.stopPropagation();
    this.open = false;
    this.shadowRoot?.querySelector("button")?.focus();
  }

  protected override render(): unknown {
    const b = this.balance;
    const live = this.meter.live;
    const text = this.text;
    const value = (n: number | undefined): string => (n === undefined ? "—" : this.credits(n));
    return html`<div class=${live ? "" : "stale"} part="root" @keydown=${this.onKeydown}>
      <button
        type="button"
        part="button"
        aria-expanded=${this.open ? "true" : "false"}
        aria-controls="pop"
        aria-label=${fill(text.balanceButton, value(b?.available))}
        @click=${() => (this.open = !this.open)}
      >
        <span part="icon">${BOLT}</span><span class="num" part="button-value">${value(b?.available)}</span>
      </button>
      <div class="pop" part="popover" id="pop" ?hidden=${!this.open}>
        <dl part="list">
          <dt part="label">${text.available}</dt>
          <dd class="num" part="value" data-testid="balance-available">${value(b?.available)}</dd>
          <dt part="label">${text.used}</dt>
          <dd class="num" part="value" data-testid="balance-used">${value(b?.used)}</dd>
          <dt part="label">${text.usagePercent}</dt>
          <dd part="value"><span class="num" data-testid="balance-percent">${value(b?.usagePercent)}</span>%</dd>
        </dl>
        <div class="bar" part="bar" aria-hidden="true"><span part="bar-fill" style="width: ${Math.min(100, b?.usagePercent ?? 0)}%"></span></div>
        <a part="link" href=${this.usageHref}>${text.seeUsage}</a>
        ${live ? nothing : html`<div class="hint" part="hint" role="status">${connectionHint(this.meter.state, text)}</div>`}
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
