import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { LedgerOutcome } from "../ledger/outcome.js";

/** The server's Prometheus metrics (README "Metrics" lists them). */
export class Metrics {
  readonly registry = new Registry();
  readonly events = new Counter({
    name: "creditmeter_events_total",
    help: "Stage events processed, by type and result status (rejected for invalid input)",
    labelNames: ["type", "status"] as const,
    registers: [this.registry],
  });
  readonly credits = new Counter({
    name: "creditmeter_credits_charged_total",
    help: "Credits charged, by action, model and plan",
    labelNames: ["action", "model", "plan"] as const,
    registers: [this.registry],
  });
  readonly ledgerSeconds = new Histogram({
    name: "creditmeter_ledger_operation_seconds",
    help: "Time of one ledger operation (EVALSHA round trip)",
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
    registers: [this.registry],
  });
  readonly pushSeconds = new Histogram({
    name: "creditmeter_event_to_push_seconds",
    help: "From the event's occurredAt to the moment its update was emitted",
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

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** Counts one applied event. */
  applied(type: string, outcome: LedgerOutcome, ledgerMs: number): void {
    this.events.inc({ type, status: outcome.result?.status ?? "applied" });
    this.ledgerSeconds.observe(ledgerMs / 1000);
    if (outcome.charge) {
      this.credits.inc(
        { action: outcome.charge.action, model: outcome.charge.model ?? "none", plan: outcome.balance?.plan ?? "unknown" },
        outcome.charge.amount,
      );
    }
  }

  /** Counts one rejected event (invalid_event / unknown_account). */
  rejected(type: string): void {
    this.events.inc({ type, status: "rejected" });
  }
}
