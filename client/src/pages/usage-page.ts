// `/usage`: detailed usage — totals by day, stage, action and session, and the ledger.
import { configureCreditMeter, formatCredits } from "@creditmeter/panel";
import { ApiClient } from "./api-client.js";
import { byId, showError } from "./dom.js";
import { LedgerTable } from "./ledger-table.js";
import { resolveAuth } from "./page-auth.js";
import { renderGroups } from "./group-table.js";
import { renderDayChart } from "./usage-chart.js";

async function loadUsage(api: ApiClient, accountId: string, days: number): Promise<void> {
  const to = new Date();
  const from = new Date(to.getTime() - days * 86_400_000);
  const window = { from: from.toISOString(), to: to.toISOString() };
  const [byDay, byStage, byAction, bySession] = await Promise.all(
    (["day", "stage", "action", "session"] as const).map((groupBy) => api.usage(accountId, { ...window, groupBy })),
  );
  if (!byDay || !byStage || !byAction || !bySession) return;
  byId("usage-total", HTMLElement).textContent = formatCredits(byDay.total);
  renderDayChart(byId("chart-day", HTMLElement), byDay);
  renderGroups(byId("by-stage", HTMLTableElement), byStage);
  renderGroups(byId("by-action", HTMLTableElement), byAction);
  renderGroups(byId("by-session", HTMLTableElement), bySession);
}

async function main(): Promise<void> {
  const auth = await resolveAuth();
  byId("account-label", HTMLElement).textContent = auth.accountId;
  configureCreditMeter({ url: "", token: auth.token });
  const api = new ApiClient(auth.token);
  const period = byId("period", HTMLSelectElement);
  const reload = (): Promise<void> => loadUsage(api, auth.accountId, Number(period.value)).catch(showError);
  period.addEventListener("change", () => void reload());
  const ledger = new LedgerTable(api, auth.accountId);
  await Promise.all([reload(), ledger.load()]);
  document.body.dataset.loaded = "true";
}

main().catch(showError);
