import { css, html, nothing } from "lit";
import type { AlertLevel, Balance } from "@creditmeter/shared";
import { CreditElement } from "./credit-element.js";
import { MeterController } from "./meter-controller.js";

export { LOW_CREDIT_TEXT } from "./low-credit-text.js";

/**
 * `detail` of `credit-upgrade`: where its link goes, and why: the banner's alert (`level`), or the
 * session counter's forecast shortfall (`level` null, CONTRACT §10).
 */
export interface CreditUpgradeDetail {
  level: AlertLevel | null;
  url: string;
  reason: "low_balance" | "forecast_shortfall";
}
/** `detail` of `credit-banner-dismiss`: the level dismissed. */
export interface CreditBannerDismissDetail {
  level: AlertLevel;
}

/**
 * `<low-credit-banner upgrade-url="…">`: the yellow banner, shown while the account has an
 * alert that was not dismissed. Dismiss hides it at once, fires `credit-banner-dismiss` and asks
 * the server to remember it (until the next crossing); if the server refuses, it comes back.
 * "Upgrade plan" fires a cancellable `credit-upgrade`: a host that opens its own checkout calls
 * `preventDefault()`; otherwise the link (`upgrade-url`) is followed.
 * Parts: `banner`, `message`, `actions`, `dismiss`, `upgrade`.
 */
export class LowCreditBanner extends CreditElement {
  static override properties = { ...CreditElement.properties, upgradeUrl: { type: String, attribute: "upgrade-url" } };
  static override styles = [
    ...CreditElement.styles,
    css`
      :host {
        display: block;
      }
      :host(:focus) {
        outline: none;
      }
      .banner {
        display: flex;
        align-items: center;
        gap: 12px;
        background: var(--_warn-bg);
        border: 1px solid var(--_warn-border);
        color: var(--_warn-text);
        border-radius: var(--_radius);
        padding: 10px 12px 10px 16px;
        font-size: 14px;
        line-height: 1.4;
      }
      p {
        margin: 0;
        flex: 1;
      }
      .actions {
        display: flex;
        gap: 8px;
        flex-shrink: 0;
      }
      button,
      a {
        font: inherit;
        font-size: 13px;
        font-weight: 600;
        border-radius: 8px;
        padding: 6px 12px;
        cursor: pointer;
        text-decoration: none;
      }
      button {
        background: transparent;
        border: 1px solid transparent;
        color: var(--_warn-text);
      }
      button:hover {
        background: var(--_hover);
      }
      a {
        background: var(--_cta-bg);
        color: var(--_cta-text);
        border: 1px solid var(--_cta-bg);
      }
    `,
  ];

  declare upgradeUrl: string;
  private balance: Balance | null = null;
  /** Levels dismissed here and not yet reflected by a balance from the server. */
  private readonly dismissing = new Set<AlertLevel>();
  private readonly meter = new MeterController(this, (meter) => {
    this.balance = meter.balance;
    return [
      meter.onBalance((balance) => {
        // Once the server has the dismissal (or the alert is gone) its word is the truth again.
        if (!balance.alert || balance.alert.dismissed) this.dismissing.clear();
        this.balance = balance;
        this.requestUpdate();
      }),
    ];
  });

  constructor() {
    super();
    this.upgradeUrl = "/upgrade";
  }

  private async dismiss(level: AlertLevel): Promise<void> {
    const meter = this.meter.meter;
    if (!meter) return;
    // The button is about to vanish: keep focus where the banner was (not on <body>), so the next
    // Tab continues from here.
    const hadFocus = this.shadowRoot?.activeElement != null;
    this.dismissing.add(level);
    this.requestUpdate();
    this.dispatchEvent(
      new CustomEvent<CreditBannerDismissDetail>("credit-banner-dismiss", {
        detail: { level },
        bubbles: true,
        composed: true,
      }),
    );
    if (hadFocus) {
      if (!this.hasAttribute("tabindex")) this.setAttribute("tabindex", "-1");
      this.focus();
    }
    try {
      await meter.dismissAlert(level);
    } catch {
      this.dismissing.delete(level);
      this.requestUpdate();
    }
  }

  private upgrade(event: MouseEvent, level: AlertLevel): void {
    const proceed = this.dispatchEvent(
      new CustomEvent<CreditUpgradeDetail>("credit-upgrade", {
        detail: { level, url: this.upgradeUrl, reason: "low_balance" },
        bubbles: true,
        composed: true,
        cancelable: true,
      }),
    );
    if (!proceed) event.preventDefault(); // the host opens its own checkout
  }

  protected override render(): unknown {
    const alert = this.balance?.alert;
    if (!alert || alert.dismissed || this.dismissing.has(alert.level)) return nothing;
    const text = this.text;
    return html`<div
      class="banner"
      part="banner"
      role="alert"
      data-testid="low-credit-banner"
      data-level=${alert.level}
    >
      <p part="message">${text.bannerText}</p>
      <div class="actions" part="actions">
        <button type="button" part="dismiss" data-testid="banner-dismiss" @click=${() => this.dismiss(alert.level)}>
          ${text.dismiss}
        </button>
        <a
          part="upgrade"
          data-testid="banner-upgrade"
          href=${this.upgradeUrl}
          @click=${(e: MouseEvent) => this.upgrade(e, alert.level)}
          >${text.upgrade}</a
        >
      </div>
    </div>`;
  }
}

if (!customElements.get("low-credit-banner")) customElements.define("low-credit-banner", LowCreditBanner);

declare global {
  interface HTMLElementTagNameMap {
    "low-credit-banner": LowCreditBanner;
  }
  // The events bubble out of shadow roots, so a host may listen on the element, the document or the window.
  interface HTMLElementEventMap {
    "credit-upgrade": CustomEvent<CreditUpgradeDetail>;
    "credit-banner-dismiss": CustomEvent<CreditBannerDismissDetail>;
  }
  interface DocumentEventMap {
    "credit-upgrade": CustomEvent<CreditUpgradeDetail>;
    "credit-banner-dismiss": CustomEvent<CreditBannerDismissDetail>;
  }
  interface WindowEventMap {
    "credit-upgrade": CustomEvent<CreditUpgradeDetail>;
    "credit-banner-dismiss": CustomEvent<CreditBannerDismissDetail>;
  }
}
