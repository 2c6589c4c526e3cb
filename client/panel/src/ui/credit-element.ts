import { LitElement } from "lit";
import { formatCredits } from "./format.js";
import { resolveStrings, type CreditStrings } from "./strings.js";
import { theme } from "./theme.js";

/**
 * What every credit element shares: `locale` (numbers through Intl, and the built-in translation
 * of that language), `strings` (the host's own words for any of them), and `theme`
 * (`light` | `dark`; absent: follow the system's prefers-color-scheme).
 */
export class CreditElement extends LitElement {
  static override properties = {
    locale: { type: String, reflect: true },
    strings: { attribute: false },
    theme: { type: String, reflect: true },
  };
  static override styles = [theme];

  declare locale: string | undefined;
  declare strings: Partial<CreditStrings> | undefined;
  declare theme: "light" | "dark" | undefined;

  /** The words in use: the locale's set with the host's overrides. */
  protected get text(): CreditStrings {
    return resolveStrings(this.locale ?? this.ownerDocument.documentElement.lang, this.strings);
  }

  /** A credit amount in this element's locale. */
  protected credits(n: number): string {
    return formatCredits(n, this.locale ?? "en-US");
  }
}
