import { el } from "../dom.js";
import { FailedPageSchema, type FailedJob } from "./ops-schemas.js";

/**
 * The dead-letter view on /ops: failed events with their reasons, each with Retry and Discard
 * (`/v1/ops/failed`). Reloaded when the failed count in ops:stats changes, not on a timer.
 */
export class FailedPanel {
  private lastCount = -1;
  private loading = false;

  constructor(
    private readonly table: HTMLTableSectionElement,
    private readonly token: string,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Reloads when `failedCount` differs from what is shown. */
  sync(failedCount: number): void {
    if (failedCount !== this.lastCount && !this.loading) void this.load();
  }

  /** Fetches the newest failed jobs and renders them. */
  async load(): Promise<void> {
    this.loading = true;
    try {
      const res = await fetch("/v1/ops/failed?limit=20", { headers: { authorization: `Bearer ${this.token}` } });
      if (!res.ok) throw new Error(`failed events: HTTP ${res.status}`);
      const page = FailedPageSchema.parse(await res.json());
      this.lastCount = page.total;
      this.render(page.jobs);
    } catch (err) {
      this.onError(err);
    } finally {
      this.loading = false;
    }
  }

  private async act(job: FailedJob, how: "retry" | "discard"): Promise<void> {
    const path = `/v1/ops/failed/${encodeURIComponent(job.jobId)}${how === "retry" ? "/retry" : ""}`;
    const res = await fetch(path, { method: how === "retry" ? "POST" : "DELETE", headers: { authorization: `Bearer ${this.token}` } });
    if (!res.ok && res.status !== 404) throw new Error(`${how} ${job.jobId}: HTTP ${res.status}`);
    await this.load();
  }

  private render(jobs: FailedJob[]): void {
    const rows = jobs.map((job) => {
      const tr = document.createElement("tr");
      tr.dataset.jobId = job.jobId;
      const actions = el("td", "", "actions");
      for (const how of ["retry", "discard"] as const) {
        const button = el("button", how === "retry" ? "Retry" : "Discard", how);
        button.dataset.testid = `failed-${how}`;
        button.addEventListener("click", () => void this.act(job, how).catch(this.onError));
        actions.append(button);
      }
      const who = [job.accountId, job.sessionId].filter((x) => x !== null).join(" / ");
      tr.append(el("td", job.eventId ?? job.jobId, "mono"), el("td", who), el("td", job.failedReason, "reason"), el("td", job.failedAt ? new Date(job.failedAt).toLocaleTimeString("en-GB") : ""), actions);
      return tr;
    });
    if (rows.length === 0) {
      const tr = document.createElement("tr");
      const td = el("td", "No failed events", "empty");
      td.setAttribute("colspan", "5");
      tr.append(td);
      rows.push(tr);
    }
    this.table.replaceChildren(...rows);
  }
}
