import { createHash } from "node:crypto";
import { z } from "zod";
import { WebhookPayload } from "@creditmeter/shared";

/** The webhook deliveries' own BullMQ queue, beside the metering queue: `<queue>.webhooks`. */
export function webhookQueueName(metering: string): string {
  return `${metering}.webhooks`;
}

/** A delivery job's data: which webhook, and the exact payload every attempt sends. */
export const DeliveryJob = z.object({ v: z.literal(1), webhookId: z.string(), payload: WebhookPayload });
export type DeliveryJob = z.infer<typeof DeliveryJob>;

/**
 * The delivery id, also the BullMQ job id: derived from the webhook and the event's own key, so
 * every process that queues the same event for the same webhook names the same job, and BullMQ
 * keeps one. (No ':' and not all digits: BullMQ refuses those as job ids.)
 */
export function deliveryId(webhookId: string, accountId: string, eventKey: string): string {
  return `whd_${createHash("sha256").update(`${webhookId}|${accountId}|${eventKey}`).digest("hex").slice(0, 32)}`;
}
