import type { LedgerPage } from "@creditmeter/shared";
import { formatCredits } from "@creditmeter/panel";
import type { ApiClient } from "./api-client.js";
import { byId, el, showError } from "./dom.js";

const PAGE_SIZE = 20;
const when = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

/**
 * The audit trail, newest first, paged with the server's cursors. Going back uses the cursors
 * already seen (a stack), so "Newer" shows exactly the page that was shown before.
 */
export class LedgerTable {
  private readonly cursors: (string | null)[] = [null];
  private next: string | null = null;

  constructor(
    private readonly api: ApiClient,
    private readonly accountId: string,
  ) {
    byId("ledger-older", HTMLButtonElement).addEventListener("click", () => {
      if (this.next === null) return;
      this.cursors.push(this.next);
      void this.load();
    });
    byId("ledger-newer", HTMLButtonElement).addEventListener("click", () => {
      if (this.cursors.length <= 1) return;
      this.cursors.pop();
      void this.load();
    });
  }

  /** Loads the current page (the first, until the user pages). */
  async load(): Promise<void> {
    try {
      const page = await this.api.ledger(this.accountId, PAGE_SIZE, this.cursors.at(-1) ?? null);
      this.render(page);
    } catch (err) {
      showError(err);
    }
  }

  private render(page: LedgerPage): void {
    this.next = page.nextCursor;
    const rows = page.entries.map((e) => {
      const row = document.createElement("tr");
      const kind = el("td");
      kind.append(el("span", e.kind, `kind ${e.kind}`));
      row.append(
        el("td", when.format(new Date(e.at))),
        kind,
        el("td", formatCredits(e.amount), "r num"),
        el("td", e.action?.replace(/_/g, " ") ?? "—"),
        el("td", e.sessionId ?? "—"),
        el("td", formatCredits(e.balanceAfter.available), "r num"),
      );
      return row;
    });
    byId("ledger-rows", HTMLTableSectionElement).replaceChildren(...rows);
    byId("ledger-older", HTMLButtonElement).disabled = this.next === null;
    byId("ledger-newer", HTMLButtonElement).disabled = this.cursors.length <= 1;
    byId("ledger-page", HTMLElement).textContent = `Page ${this.cursors.length}`;
  }
}
