import type { OpsAlert, OpsCharge, OpsStats } from "@creditmeter/shared";

/** How many charges and alerts the page keeps for its feeds. */
export const FEED_ROWS = 40;
export const ALERT_ROWS = 60;

/**
 * What arrived since the last frame. Socket handlers only append here (cheap, whatever the
 * rate); the frame loop renders from it and clears the dirty flags, so thousands of charges a
 * second cost one DOM update per frame at most.
 */
export class OpsState {
  stats: OpsStats | null = null;
  /** Newest last, at most FEED_ROWS. */
  readonly charges: OpsCharge[] = [];
  /** Newest first, at most ALERT_ROWS. */
  readonly alerts: OpsAlert[] = [];
  chargesReceived = 0;
  creditsReceived = 0;
  batchesReceived = 0;
  statsDirty = false;
  chargesDirty = false;
  alertsDirty = false;

  /** Takes one ops:stats. */
  onStats(stats: OpsStats): void {
    this.stats = stats;
    this.statsDirty = true;
  }

  /** Takes one ops:charges batch (only its tail is kept for display). */
  onCharges(batch: OpsCharge[]): void {
    this.batchesReceived += 1;
    this.chargesReceived += batch.length;
    for (const c of batch) this.creditsReceived += c.amount;
    const tail = batch.slice(-FEED_ROWS);
    this.charges.push(...tail);
    if (this.charges.length > FEED_ROWS) this.charges.splice(0, this.charges.length - FEED_ROWS);
    this.chargesDirty = true;
  }

  /** Takes one ops:alert. */
  onAlert(alert: OpsAlert): void {
    this.alerts.unshift(alert);
    if (this.alerts.length > ALERT_ROWS) this.alerts.length = ALERT_ROWS;
    this.alertsDirty = true;
  }
}
