import { css, html, nothing, type ReactiveControllerHost } from "lit";
import type { SessionBudget } from "@creditmeter/shared";
import type { CreditMeter } from "../sdk/types.js";
import { sentence } from "./session-forecast.js";
import type { CreditStrings } from "./strings.js";

/**
 * A whole number of credits ≥ 0 as typed, else null. Digits only: "1.5" or "1,000" are refused
 * rather than guessed at (a separator means different things in different locales).
 */
export function parseBudgetInput(raw: string): number | null {
  const digits = raw.trim();
  if (!/^\d{1,13}$/.test(digits)) return null;
  const credits = Number(digits);
  return Number.isSafeInteger(credits) ? credits : null;
}

/**
 * The budget control of the session counter: the budget left, a field and the Set/Remove
 * buttons (CONTRACT §10). It checks what was typed before asking the server, and shows the
 * server's refusal as it came (the budget shown is always the server's).
 */
export class BudgetControl {
  error = "";
  busy = false;

  constructor(private readonly host: ReactiveControllerHost) {}

  /** Forgets a previous error (another session). */
  reset(): void {
    this.error = "";
    this.busy = false;
  }

  /** Sets (`credits`) or removes (`null`) the budget of `sessionId` through `meter`. */
  async apply(meter: CreditMeter | null, sessionId: string, credits: number | null): Promise<boolean> {
    if (!meter || !sessionId || this.busy) return false;
    this.busy = true;
    this.error = "";
    this.host.requestUpdate();
    try {
      await meter.setBudget(sessionId, credits);
      return true;
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err);
      return false;
    } finally {
      this.busy = false;
      this.host.requestUpdate();
    }
  }

  /** Reads the field, refuses anything but a whole number ≥ 0, and sets the budget. */
  private async submit(
    event: SubmitEvent,
    meter: CreditMeter | null,
    sessionId: string,
    text: CreditStrings,
  ): Promise<void> {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const input = form.querySelector("input");
    const credits = parseBudgetInput(input?.value ?? "");
    if (credits === null) {
      this.error = text.budgetInvalid;
      this.host.requestUpdate();
      input?.focus();
      return;
    }
    if ((await this.apply(meter, sessionId, credits)) && input) input.value = "";
  }

  /** The budget line and, unless `compact`, the form. */
  render(view: {
    budget: SessionBudget | null;
    meter: CreditMeter | null;
    sessionId: string;
    text: CreditStrings;
    credits: (n: number) => string;
    compact: boolean;
  }): unknown {
    const { budget, text, credits, meter, sessionId } = view;
    const left = budget
      ? sentence(
          text.budgetRemaining,
          html`<span class="num" data-testid="budget-remaining">${credits(budget.remaining)}</span>`,
          html`<span class="num" data-testid="budget-credits">${credits(budget.credits)}</span>`,
        )
      : nothing;
    return html`<div class="budget" part="budget">
      ${
        budget
          ? html`<p class="budget-state" part="budget-state">
              ${left}${budget.remaining === 0 ? html` · <strong data-testid="budget-reached">${text.budgetReached}</strong>` : nothing}
            </p>`
          : nothing
      }
      ${
        view.compact
          ? nothing
          : html`<form
              part="budget-form"
              @submit=${(e: SubmitEvent) => this.submit(e, meter, sessionId, text)}
              novalidate
            >
              <label for="budget-input" part="budget-label">${text.budgetLabel}</label>
              <input
                id="budget-input"
                part="budget-input"
                data-testid="budget-input"
                type="text"
                inputmode="numeric"
                autocomplete="off"
                aria-invalid=${this.error ? "true" : "false"}
                aria-describedby="budget-error"
              />
              <button type="submit" part="budget-set" data-testid="budget-set" ?disabled=${this.busy}>
                ${text.budgetSet}
              </button>
              ${
                budget
                  ? html`<button
                      type="button"
                      part="budget-remove"
                      data-testid="budget-remove"
                      ?disabled=${this.busy}
                      @click=${() => this.apply(meter, sessionId, null)}
                    >
                      ${text.budgetRemove}
                    </button>`
                  : nothing
              }
            </form>`
      }
      <p
        id="budget-error"
        class="budget-error"
        part="budget-error"
        role="alert"
        data-testid="budget-error"
        ?hidden=${!this.error}
      >
        ${this.error}
      </p>
    </div>`;
  }
}

export const budgetStyles = css`
  .budget {
    margin-top: 12px;
    font-size: 13px;
  }
  .budget-state {
    margin: 0 0 8px;
    color: var(--_muted);
  }
  .budget-state .num {
    font-weight: 600;
    color: var(--_text);
  }
  .budget-state strong {
    color: var(--_warn-text);
  }
  form {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 6px 8px;
  }
  label {
    color: var(--_muted);
    margin-right: 2px;
  }
  input {
    font: inherit;
    width: 7em;
    padding: 4px 8px;
    color: var(--_text);
    background: var(--_surface);
    border: 1px solid var(--_border);
    border-radius: 8px;
  }
  input[aria-invalid="true"] {
    border-color: var(--_warn-border);
  }
  form button {
    font: inherit;
    font-weight: 600;
    padding: 4px 10px;
    border-radius: 8px;
    cursor: pointer;
    color: var(--_text);
    background: var(--_surface-2);
    border: 1px solid var(--_border);
  }
  form button:hover {
    background: var(--_hover);
  }
  .budget-error {
    margin: 6px 0 0;
    color: var(--_warn-text);
  }
  .budget-error[hidden] {
    display: none;
  }
`;
