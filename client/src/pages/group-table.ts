import type { Usage } from "@creditmeter/shared";
import { formatCredits } from "@creditmeter/panel";
import { el } from "./dom.js";

/** Fills a table with a usage grouping: key, a bar relative to the largest, credits, count. */
export function renderGroups(table: HTMLTableElement, usage: Usage, limit = 12): void {
  const groups = [...usage.groups].sort((a, b) => b.credits - a.credits || a.key.localeCompare(b.key)).slice(0, limit);
  const max = Math.max(1, ...groups.map((g) => g.credits));
  const rows = groups.map((g) => {
    const row = document.createElement("tr");
    const bar = el("td", "", "bar");
    const fill = el("span");
    fill.style.width = `${(100 * g.credits) / max}%`;
    bar.append(fill);
    const credits = el("td", formatCredits(g.credits), "r num");
    credits.dataset.key = g.key;
    credits.title = `${g.count} charge${g.count === 1 ? "" : "s"}`;
    row.append(el("td", g.key.replace(/_/g, " ")), bar, credits);
    return row;
  });
  if (rows.length === 0) {
    const row = document.createElement("tr");
    row.append(el("td", "No usage in this period", "muted"));
    rows.push(row);
  }
  table.replaceChildren(...rows);
}
