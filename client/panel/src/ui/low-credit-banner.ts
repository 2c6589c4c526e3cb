import { LitElement, css, html, nothing } from "lit";
import type { AlertLevel, Balance } from "@creditmeter/shared";
import { MeterController } from "./meter-controller.js";
import { theme } from "./theme.js";

/** The banner's text, word for word (CONTRACT §7). */
export const LOW_CREDIT_TEXT =
  "You're running low on credits. Upgrade to a paid plan for more credits and uninterrupted access to all features.";

/**
 * `<low-credit-banner upgrade-url="…">`: the yellow banner, shown while the account has an
 * alert that was not dismissed. Dismiss hides it at once and asks the server to remember it
 * (until the next crossing); if the server refuses, it comes back.
 */
export class LowCreditBanner extends LitElement {
  static override properties = { upgradeUrl: { type: String, attribute: "upgrade-url" } };
  static override styles = [
    theme,
    css`
      :host {
        display: block;
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
        background: rgba(0, 0, 0, 0.05);
      }
      a {
        background: #1d1d27;
        color: #fff;
        border: 1px solid #1d1d27;
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
    this.dismissing.add(level);
    this.requestUpdate();
    try {
      await meter.dismissAlert(level);
    } catch {
      this.dismissing.delete(level);
      this.requestUpdate();
    }
  }

  protected override render(): unknown {
    const alert = this.balance?.alert;
    if (!alert || alert.dismissed || this.dismissing.has(alert.level)) return nothing;
    return html`<div class="banner" role="alert" data-testid="low-credit-banner" data-level=${alert.level}>
      <p>${LOW_CREDIT_TEXT}</p>
      <div class="actions">
        <button type="button" data-testid="banner-dismiss" @click=${() => this.dismiss(alert.level)}>Dismiss</button>
        <a data-testid="banner-upgrade" href=${this.upgradeUrl}>Upgrade plan</a>
      </div>
    </div>`;
  }
}

if (!customElements.get("low-credit-banner")) customElements.define("low-credit-banner", LowCreditBanner);

declare global {
  interface HTMLElementTagNameMap {
    "low-credit-banner": LowCreditBanner;
  }
}
