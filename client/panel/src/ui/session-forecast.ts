import { css, html, nothing, type TemplateResult } from "lit";
import type { Forecast } from "@creditmeter/shared";
import { fill, type CreditStrings } from "./strings.js";

/**
 * A sentence with its numbers as elements: `{n}` (and `{m}`) of `template` become the given
 * templates, so a rendered number keeps its test hook and `.num` styling inside translated words.
 */
export function sentence(template: string, n: TemplateResult, m?: TemplateResult): TemplateResult[] {
  return template.split(/(\{[nm]\})/).map((piece) => {
    if (piece === "{n}") return n;
    if (piece === "{m}" && m) return m;
    return html`${piece}`;
  });
}

/**
 * What the polite live region says about a shortfall: set when the warning appears (or its words
 * change, e.g. another locale) and left alone while only its number moves, so a screen reader
 * hears the warning once rather than on every charge.
 */
export class ShortfallAnnouncer {
  message = "";
  private template: string | null = null;

  /** Takes the forecast of the latest update and the words in use. */
  take(shortfall: number, text: CreditStrings, format: (n: number) => string): void {
    if (shortfall <= 0) {
      this.template = null;
      this.message = "";
      return;
    }
    if (this.template === text.forecastShortfall) return;
    this.template = text.forecastShortfall;
    this.message = fill(text.forecastShortfall, format(shortfall));
  }

  reset(): void {
    this.template = null;
    this.message = "";
  }
}

/** What the counter passes to draw the forecast. */
export interface ForecastView {
  forecast: Forecast | null;
  text: CreditStrings;
  credits: (n: number) => string;
  upgradeUrl: string;
  onUpgrade: (event: MouseEvent) => void;
}

/**
 * "About N more credits to finish" when the session has a plan, and, when the account cannot
 * cover the rest, the shortfall warning with the Upgrade action (CONTRACT §10).
 */
export function renderForecast(view: ForecastView): unknown {
  const { forecast, text, credits } = view;
  if (!forecast) return nothing;
  const remaining = html`<span class="num" data-testid="forecast-remaining">${credits(forecast.remaining)}</span>`;
  const shortfall = html`<span class="num" data-testid="forecast-shortfall">${credits(forecast.shortfall)}</span>`;
  return html`<p class="forecast" part="forecast">${sentence(text.forecastRemaining, remaining)}</p>
    ${
      forecast.shortfall > 0
        ? html`<div class="shortfall" part="shortfall">
            <p part="shortfall-message">${sentence(text.forecastShortfall, shortfall)}</p>
            <a part="shortfall-upgrade" data-testid="forecast-upgrade" href=${view.upgradeUrl} @click=${view.onUpgrade}
              >${text.upgrade}</a
            >
          </div>`
        : nothing
    }`;
}

export const forecastStyles = css`
  .forecast {
    margin: 12px 0 0;
    font-size: 13px;
    color: var(--_muted);
  }
  .forecast .num {
    font-weight: 600;
    color: var(--_text);
  }
  .shortfall {
    display: flex;
    align-items: center;
    gap: 12px;
    margin-top: 10px;
    background: var(--_warn-bg);
    border: 1px solid var(--_warn-border);
    color: var(--_warn-text);
    border-radius: 8px;
    padding: 8px 10px 8px 12px;
    font-size: 13px;
    line-height: 1.4;
  }
  .shortfall p {
    margin: 0;
    flex: 1;
  }
  .shortfall a {
    flex-shrink: 0;
    font-weight: 600;
    border-radius: 8px;
    padding: 5px 10px;
    text-decoration: none;
    background: var(--_cta-bg);
    color: var(--_cta-text);
  }
`;
