import { LitElement, type PropertyValues } from "lit";
import type { CreditMeter } from "../sdk/types.js";
import type { MeterController } from "./meter-controller.js";
import { formatCredits } from "./format.js";
import { resolveStrings, type CreditStrings } from "./strings.js";
import { theme } from "./theme.js";

/**
 * What every credit element shares: `locale` (numbers through Intl, and the built-in translation
 * of that language), `strings` (the host's own words for any of them), and `theme`
 * (`light` | `dark`; absent: follow the system's prefers-color-scheme), and `creditMeter`: a
 * CreditMeter of the element's own instead of the page's (several accounts or servers on one page).
 */
export class CreditElement extends LitElement {
  static override properties = {
    locale: { type: String, reflect: true },
    strings: { attribute: false },
    theme: { type: String, reflect: true },
    creditMeter: { attribute: false },
  };
  static override styles = [theme];

  declare locale: string | undefined;
  declare strings: Partial<CreditStrings> | undefined;
  declare theme: "light" | "dark" | undefined;
  declare creditMeter: CreditMeter | undefined;
  /** The controllers connecting this element to a meter, re-attached when `creditMeter` changes. */
  readonly meterControllers: MeterController[] = [];

  protected override willUpdate(changed: PropertyValues<this>): void {
    super.willUpdate(changed);
    if (changed.has("creditMeter") && this.isConnected)
      for (const controller of this.meterControllers) controller.resubscribe();
  }

  /** The words in use: the locale's set with the host's overrides. */
  protected get text(): CreditStrings {
    return resolveStrings(this.locale ?? this.ownerDocument.documentElement.lang, this.strings);
  }

  /** A credit amount in this element's locale. */
  protected credits(n: number): string {
    return formatCredits(n, this.locale ?? "en-US");
  }
}
