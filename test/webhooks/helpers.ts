import { createHmac, randomUUID } from "node:crypto";
import { CreatedWebhook, WebhookDeliveryList, type StageEvent, type WebhookDelivery } from "@creditmeter/shared";
import { completed } from "../realtime/harness.js";

/** POST /v1/webhooks with an ops token; throws unless 201. */
export async function createWebhook(baseUrl: string, token: string, body: object): Promise<CreatedWebhook> {
  const res = await fetch(`${baseUrl}/v1/webhooks`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (res.status !== 201) throw new Error(`create webhook: ${res.status} ${await res.text()}`);
  return CreatedWebhook.parse(await res.json());
}

/** GET /v1/webhooks/:id/deliveries. */
export async function deliveries(baseUrl: string, token: string, id: string): Promise<WebhookDelivery[]> {
  const res = await fetch(`${baseUrl}/v1/webhooks/${id}/deliveries`, { headers: { authorization: `Bearer ${token}` } });
  if (res.status !== 200) throw new Error(`deliveries: ${res.status} ${await res.text()}`);
  return WebhookDeliveryList.parse(await res.json()).deliveries;
}

/**
 * The recipe of docs/webhooks.md, written out with node:crypto alone (not the server's code):
 * HMAC-SHA256 of "<t>.<raw body>" with the secret, hex, equal to some v1 of the header.
 */
export function documentedRecipeVerifies(secret: string, header: string, rawBody: string): boolean {
  const fields = header.split(",").map((kv) => kv.split("=", 2) as [string, string]);
  const t = fields.find(([k]) => k === "t")?.[1];
  if (t === undefined) return false;
  const expected = createHmac("sha256", secret).update(`${t}.${rawBody}`).digest("hex");
  return fields.some(([k, v]) => k === "v1" && v === expected);
}

/** A `stage.started` for a 1-credit flat action: denied on an account without credits. */
export function started(accountId: string, sessionId = "video-1"): StageEvent {
  return { ...completed(accountId, sessionId, "script"), type: "stage.started", eventId: `ev-${randomUUID()}` };
}
