import { UnrecoverableError, Worker, type ConnectionOptions, type Job } from "bullmq";
import { WEBHOOK_DELIVERY_HEADER, WEBHOOK_SIGNATURE_HEADER, type WebhookDelivery } from "@creditmeter/shared";
import { retryDelayMs } from "./backoff.js";
import { attemptDelivery, type AttemptResult } from "./deliver.js";
import { DeliveryJob } from "./jobs.js";
import { signatureHeader } from "./signature.js";
import { signingSecrets, type WebhookStore } from "./store.js";

export interface DeliveryWorkerOptions {
  queueName: string;
  prefix: string;
  connection: ConnectionOptions;
  store: WebhookStore;
  retryBaseMs: number;
  /** Attempts in all (attemptsFor(retryBaseMs)); the last failure gives up. */
  attempts: number;
  timeoutMs: number;
  allowPrivate: boolean;
  concurrency: number;
  lockMs: number;
  onAttempt?: (webhookId: string, deliveryId: string, result: AttemptResult) => void;
}

/** One attempt of a delivery job: sign, POST, record; a failure throws so BullMQ retries it. */
async function deliverOnce(job: Job<unknown, string>, opts: DeliveryWorkerOptions): Promise<string> {
  const parsed = DeliveryJob.safeParse(job.data);
  if (!parsed.success) throw new UnrecoverableError(`invalid_input: webhook job ${job.id ?? "?"}: ${parsed.error.message}`);
  const { webhookId, payload } = parsed.data;
  const webhook = await opts.store.get(webhookId);
  if (!webhook) return "webhook_deleted";

  const body = JSON.stringify(payload);
  const now = Date.now();
  const t = Math.floor(now / 1000);
  const result = await attemptDelivery({
    url: webhook.url,
    body,
    headers: { [WEBHOOK_DELIVERY_HEADER]: payload.id, [WEBHOOK_SIGNATURE_HEADER]: signatureHeader(signingSecrets(webhook, now), t, body) },
    timeoutMs: opts.timeoutMs,
    allowPrivate: opts.allowPrivate,
  });
  opts.onAttempt?.(webhookId, payload.id, result);
  const failedBefore = job.attemptsMade;
  const givingUp = !result.ok && failedBefore + 1 >= opts.attempts;
  const record: WebhookDelivery = {
    id: payload.id,
    type: payload.type,
    // Attempts started, counting one cut short by a crash (BullMQ re-runs those as stalled).
    attempts: Math.max(job.attemptsStarted, failedBefore + 1),
    lastStatus: result.status,
    lastError: result.ok ? null : (result.error ?? `status_${result.status ?? 0}`),
    deliveredAt: result.ok ? new Date().toISOString() : null,
    nextAttemptAt: result.ok || givingUp ? null : new Date(Date.now() + retryDelayMs(opts.retryBaseMs, failedBefore + 1, payload.id)).toISOString(),
    createdAt: payload.createdAt,
  };
  await opts.store.recordAttempt(webhookId, record);
  if (!result.ok) throw new Error(`webhook delivery failed: ${record.lastError ?? "unknown"}`);
  return "delivered";
}

/**
 * The delivery worker on the webhooks queue. Retries follow retryDelayMs (exponential, ≥ 24 h in
 * all); a job whose process died mid-attempt is taken over once its lock expires and sent again
 * with the same delivery id (at least once).
 */
export function createDeliveryWorker(opts: DeliveryWorkerOptions): Worker<unknown, string> {
  return new Worker<unknown, string>(opts.queueName, (job) => deliverOnce(job, opts), {
    connection: opts.connection,
    prefix: opts.prefix,
    concurrency: opts.concurrency,
    lockDuration: opts.lockMs,
    stalledInterval: Math.max(250, Math.floor(opts.lockMs / 2)),
    // A delivery interrupted by crashes is still owed: never fail it for stalling.
    maxStalledCount: 1000,
    settings: {
      backoffStrategy: (attemptsMade: number, _type?: string, _err?: Error, job?: { id?: string }) =>
        retryDelayMs(opts.retryBaseMs, attemptsMade, job?.id ?? ""),
    },
  });
}
