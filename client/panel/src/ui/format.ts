const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

/** Credits as a plain integer with a thousands separator ("1,234"). */
export function formatCredits(credits: number): string {
  return integer.format(Math.round(credits));
}

/** What the connection hint says for a state other than "connected". */
export function connectionHint(state: string): string {
  switch (state) {
    case "connecting":
      return "Connecting…";
    case "reconnecting":
      return "Reconnecting — numbers may be out of date";
    case "unauthorized":
      return "Signed out — live updates stopped";
    default:
      return "Offline — showing the last known numbers";
  }
}
