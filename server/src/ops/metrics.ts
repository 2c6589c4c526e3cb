import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { LedgerOutcome } from "../ledger/outcome.js";

/** The server's Prometheus metrics (README "Metrics" lists them). */
export class Metrics {
  readonly registry = new Registry();
  private newestSeen = 0;
  /**
   * Counts of applied events and credits not yet handed to prom-client, by label values: an inc
   * with labels validates and hashes them each time (a few µs an event, measured in the drain),
   * so each event adds to a plain map and the counters take the sums when read (collect).
   */
  private readonly pendingEvents = new Map<string, { labels: { type: string; status: string }; n: number }>();
  private readonly pendingCredits = new Map<
    string,
    { labels: { action: string; model: string; plan: string }; n: number }
  >();
  readonly events = new Counter({
    name: "creditmeter_events_total",
    help: "Stage events processed, by type and result status (rejected for invalid input)",
    labelNames: ["type", "status"] as const,
    registers: [this.registry],
    collect: () => this.flushPending(),
  });
  readonly credits = new Counter({
    name: "creditmeter_credits_charged_total",
    help: "Credits charged, by action, model and plan",
    labelNames: ["action", "model", "plan"] as const,
    registers: [this.registry],
    collect: () => this.flushPending(),
  });
  readonly ledgerSeconds = new Histogram({
    name: "creditmeter_ledger_operation_seconds",
    help: "Time of one ledger operation (EVALSHA round trip)",
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
    registers: [this.registry],
  });
  readonly pushSeconds = new Histogram({
    name: "creditmeter_event_to_push_seconds",
    help: "From the event's occurredAt to the emit of its session update (balance pushes are paced on purpose and not timed)",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [this.registry],
  });
  readonly sockets = new Gauge({
    name: "creditmeter_sockets_connected",
    help: "Socket.IO connections on this process, by namespace",
    labelNames: ["namespace"] as const,
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: "creditmeter_queue_jobs",
    help: "Jobs in the credit-events queue, by state",
    labelNames: ["state"] as const,
    registers: [this.registry],
  });

  readonly rejectedByReason = new Counter({
    name: "creditmeter_events_rejected_total",
    help: "Stage events failed without retry, by reason code (invalid_event, unknown_account)",
    labelNames: ["reason"] as const,
    registers: [this.registry],
  });
  readonly failedJobs = new Counter({
    name: "creditmeter_failed_jobs_total",
    help: "Jobs failed for good, by reason, deployment-wide and across restarts (kept in Redis; the queue keeps only CREDITMETER_FAILED_JOBS_KEPT of them)",
    labelNames: ["reason"] as const,
    registers: [this.registry],
  });
  readonly newestApplied = new Gauge({
    name: "creditmeter_newest_applied_event_timestamp_seconds",
    help: "occurredAt of the newest event this process applied (lag = time() - this)",
    registers: [this.registry],
  });
  readonly consumerLag = new Gauge({
    name: "creditmeter_consumer_lag_seconds",
    help: "Deployment-wide consumer lag as ops:stats reports it (set on the emitting node only)",
    registers: [this.registry],
  });
  readonly webhookAttempts = new Counter({
    name: "creditmeter_webhook_attempts_total",
    help: "Webhook delivery attempts made by this process, by result (delivered, failed)",
    labelNames: ["result"] as const,
    registers: [this.registry],
  });
  readonly webhookEnqueueFailures = new Counter({
    name: "creditmeter_webhook_enqueue_failures_total",
    help: "Webhook events this process could not queue (logged with the account; docs/webhooks.md)",
    registers: [this.registry],
  });
  readonly opsBatches = new Counter({
    name: "creditmeter_ops_charge_batches_total",
    help: "ops:charges batches emitted by this process",
    registers: [this.registry],
  });
  readonly opsChargesShown = new Counter({
    name: "creditmeter_ops_charges_streamed_total",
    help: "Charges sent on ops:charges by this process",
    registers: [this.registry],
  });
  readonly opsChargesSkipped = new Counter({
    name: "creditmeter_ops_charges_skipped_total",
    help: "Charges left out of the ops:charges feed by its batch cap (the ops:stats figures still count them)",
    registers: [this.registry],
  });
  readonly sweepAccountFailures = new Counter({
    name: "creditmeter_sweep_account_failures_total",
    help: "Accounts whose sweep (hold expiry, cycle end) failed; each is retried a minute later and the pass goes on",
    registers: [this.registry],
  });
  readonly opsAlertsDropped = new Counter({
    name: "creditmeter_ops_alerts_dropped_total",
    help: "Ops alerts not streamed because a burst passed the per-flush cap",
    registers: [this.registry],
  });
  readonly opsFlushFailures = new Counter({
    name: "creditmeter_ops_flush_failures_total",
    help: "Failed writes of the /ops aggregates (their charges are missing from ops:stats)",
    registers: [this.registry],
  });
  readonly historyPending = new Gauge({
    name: "creditmeter_history_pending_accounts",
    help: "Accounts noted as having audit entries not yet copied to PostgreSQL (read at scrape time; history on only)",
    registers: [this.registry],
  });
  readonly historyArchiveFailures = new Counter({
    name: "creditmeter_history_archive_failures_total",
    help: "Failed archiving steps (PostgreSQL or Redis unreachable); the entries stay in Redis and are retried",
    registers: [this.registry],
  });
  readonly opsLeader = new Gauge({
    name: "creditmeter_ops_emitter_leader",
    help: "1 while this process is the deployment's /ops emitter",
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** Counts one applied event. */
  applied(type: string, outcome: LedgerOutcome, ledgerMs: number): void {
    const status = outcome.result?.status ?? "applied";
    const key = `${type} ${status}`;
    const counted = this.pendingEvents.get(key);
    if (counted) counted.n += 1;
    else this.pendingEvents.set(key, { labels: { type, status }, n: 1 });
    this.ledgerSeconds.observe(ledgerMs / 1000);
    if (outcome.occurredAtMs !== null && status === "applied" && outcome.occurredAtMs / 1000 > this.newestSeen) {
      this.newestSeen = outcome.occurredAtMs / 1000;
      this.newestApplied.set(this.newestSeen);
    }
    const charge = outcome.charge;
    if (charge) {
      const labels = { action: charge.action, model: charge.model ?? "none", plan: outcome.plan ?? "unknown" };
      const at = `${labels.action}\u0000${labels.model}\u0000${labels.plan}`;
      const sum = this.pendingCredits.get(at);
      if (sum) sum.n += charge.amount;
      else this.pendingCredits.set(at, { labels, n: charge.amount });
    }
  }

  /** Hands the pending sums of applied() to their counters (called when either is read). */
  private flushPending(): void {
    for (const { labels, n } of this.pendingEvents.values()) this.events.inc(labels, n);
    this.pendingEvents.clear();
    for (const { labels, n } of this.pendingCredits.values()) this.credits.inc(labels, n);
    this.pendingCredits.clear();
  }

  /** Sets the failed-jobs counter to the totals persisted in Redis (read at each scrape). */
  setFailedJobs(counts: Record<string, number>): void {
    this.failedJobs.reset();
    for (const [reason, n] of Object.entries(counts)) this.failedJobs.inc({ reason }, n);
  }

  /** Counts one rejected event (invalid_event / unknown_account); `reason` is the failed reason. */
  rejected(type: string, reason = ""): void {
    this.events.inc({ type, status: "rejected" });
    const code = /^[a-z_]+/.exec(reason)?.[0] ?? "unknown";
    this.rejectedByReason.inc({ reason: code.slice(0, 32) });
  }
}
