import type { CreditStrings } from "./strings.js";

const formats = new Map<string, Intl.NumberFormat>();

/** Credits as a plain integer with the locale's thousands separator ("1,234"; "1.234" in de). */
export function formatCredits(credits: number, locale = "en-US"): string {
  let format = formats.get(locale);
  if (!format) {
    try {
      format = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
    } catch {
      format = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 }); // an invalid locale tag
    }
    formats.set(locale, format);
  }
  return format.format(Math.round(credits));
}

/** What the connection hint says for a state other than "connected". */
export function connectionHint(state: string, strings: CreditStrings): string {
  switch (state) {
    case "connecting":
      return strings.connecting;
    case "reconnecting":
      return strings.reconnecting;
    case "unauthorized":
      return strings.unauthorized;
    default:
      return strings.offline;
  }
}
