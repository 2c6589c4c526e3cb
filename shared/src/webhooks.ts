import { z } from "zod";
import { AccountId, IsoTime } from "./ids.js";

/** The events a webhook may subscribe to (CONTRACT §7, fixed). */
export const WEBHOOK_EVENT_TYPES = ["balance.alert", "stage.denied", "session.budget_reached"] as const;
export const WebhookEventType = z.enum(WEBHOOK_EVENT_TYPES);
export type WebhookEventType = z.infer<typeof WebhookEventType>;

/** Only http(s) URLs; whether the host may be private is the server's decision (SSRF guard). */
export const WebhookUrl = z
  .url({ protocol: /^https?$/ })
  .max(2048)
  .refine((url) => !new URL(url).username && !new URL(url).password, "must not carry credentials");

/** POST /v1/webhooks */
export const CreateWebhookBody = z.strictObject({
  url: WebhookUrl,
  events: z.array(WebhookEventType).min(1).max(WEBHOOK_EVENT_TYPES.length),
  accountId: AccountId.optional(),
});
export type CreateWebhookBody = z.infer<typeof CreateWebhookBody>;

/** A webhook as listed (never its secret). */
export const Webhook = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(WebhookEventType),
  accountId: AccountId.nullable(),
  createdAt: IsoTime,
});
export type Webhook = z.infer<typeof Webhook>;

/** POST /v1/webhooks → 201: the only answer that shows the secret (and the rotate call's). */
export const CreatedWebhook = Webhook.extend({ secret: z.string() });
export type CreatedWebhook = z.infer<typeof CreatedWebhook>;

/** GET /v1/webhooks */
export const WebhookList = z.object({ webhooks: z.array(Webhook) });
export type WebhookList = z.infer<typeof WebhookList>;

/** POST /v1/webhooks/:id/rotate-secret (not in the contract: docs/webhooks.md "Rotating the secret"). */
export const RotateSecretBody = z.strictObject({
  /** How long deliveries stay signed with the old secret too (0: from now on only the new one). */
  graceSeconds: z.number().int().min(0).max(7 * 86_400).optional(),
});
export type RotateSecretBody = z.infer<typeof RotateSecretBody>;
export const RotatedSecret = z.object({ id: z.string(), secret: z.string(), previousSecretExpiresAt: IsoTime.nullable() });
export type RotatedSecret = z.infer<typeof RotatedSecret>;

/**
 * One delivery of one event to one webhook; `id` is the same on every attempt. `lastStatus` is
 * the HTTP status of the last attempt, null when none answered (timeout, refused, blocked address:
 * `lastError` says which). `nextAttemptAt` is null once delivered or given up.
 */
export const WebhookDelivery = z.object({
  id: z.string(),
  type: WebhookEventType,
  attempts: z.number().int().nonnegative(),
  lastStatus: z.number().int().nullable(),
  lastError: z.string().nullable(),
  deliveredAt: IsoTime.nullable(),
  nextAttemptAt: IsoTime.nullable(),
  createdAt: IsoTime,
});
export type WebhookDelivery = z.infer<typeof WebhookDelivery>;

/** GET /v1/webhooks/:id/deliveries (newest first) */
export const WebhookDeliveryList = z.object({ deliveries: z.array(WebhookDelivery) });
export type WebhookDeliveryList = z.infer<typeof WebhookDeliveryList>;

/** The JSON body of a delivery: `data` holds the fields of the matching socket event. */
export const WebhookPayload = z.object({
  id: z.string(),
  type: WebhookEventType,
  createdAt: IsoTime,
  data: z.record(z.string(), z.unknown()),
});
export type WebhookPayload = z.infer<typeof WebhookPayload>;

/** The header names of a delivery (CONTRACT §7, fixed). */
export const WEBHOOK_SIGNATURE_HEADER = "Creditmeter-Signature";
export const WEBHOOK_DELIVERY_HEADER = "Creditmeter-Delivery";
