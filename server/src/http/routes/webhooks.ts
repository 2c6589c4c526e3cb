import { Router } from "express";
import { z } from "zod";
import { CreateWebhookBody, CreditmeterError, RotateSecretBody, type CreatedWebhook, type RotatedSecret } from "@creditmeter/shared";
import { canOperateEverything } from "../../auth/permissions.js";
import { checkWebhookUrl } from "../../webhooks/address-guard.js";
import { publicWebhook, type WebhookStore } from "../../webhooks/store.js";
import { authenticate, requirePrincipal } from "../authenticate.js";
import type { HttpDeps } from "../deps.js";
import { jsonBody, parseBody } from "../validate.js";

/** A webhook id in a path; anything else cannot name a webhook, so it is a 404. */
export const WebhookParams = z.object({ id: z.string().regex(/^wh_[0-9a-f]{24}$/) });

/** Default grace of a rotated secret: a day of deliveries signed with both secrets. */
const DEFAULT_GRACE_SECONDS = 86_400;

function webhookId(params: unknown): string {
  const parsed = WebhookParams.safeParse(params);
  if (!parsed.success) throw new CreditmeterError("not_found", "not_found: no such webhook");
  return parsed.data.id;
}

function notFound(): CreditmeterError {
  return new CreditmeterError("not_found", "not_found: no such webhook");
}

/**
 * Webhooks (CONTRACT §7, role `ops`): create, list, delete, deliveries; and rotating a secret.
 * They span accounts (a webhook without accountId hears all), so an API key scoped to one account may not manage them.
 */
export function webhooksRouter(deps: HttpDeps, store: WebhookStore): Router {
  const guard = [authenticate(deps.verifier), requirePrincipal(canOperateEverything, "manage webhooks"), jsonBody(deps.config.maxBodyBytes)];
  const allowPrivate = deps.config.webhooks.allowPrivate;
  const router = Router();
  router.use(function noStore(_req, res, next) {
    // Creation and rotation answer a secret: no proxy or browser may keep a copy.
    res.setHeader("Cache-Control", "no-store");
    next();
  });

  router.post("/", ...guard, async function createWebhook(req, res) {
    const body = parseBody(CreateWebhookBody, req.body);
    await checkWebhookUrl(body.url, allowPrivate);
    const webhook = await store.create(body);
    const answer: CreatedWebhook = { ...publicWebhook(webhook), secret: webhook.secret };
    res.status(201).json(answer);
  });
  router.get("/", ...guard, async function listWebhooks(_req, res) {
    res.status(200).json({ webhooks: (await store.list()).map(publicWebhook) });
  });
  router.delete("/:id", ...guard, async function deleteWebhook(req, res) {
    if (!(await store.delete(webhookId(req.params)))) throw notFound();
    res.status(204).end();
  });
  router.get("/:id/deliveries", ...guard, async function listDeliveries(req, res) {
    const id = webhookId(req.params);
    if (!(await store.get(id))) throw notFound();
    res.status(200).json({ deliveries: await store.deliveries(id) });
  });
  router.post("/:id/rotate-secret", ...guard, async function rotateSecret(req, res) {
    const id = webhookId(req.params);
    // The body is optional: no body rotates with the default grace.
    const body = req.body === undefined ? {} : parseBody(RotateSecretBody, req.body);
    const grace = body.graceSeconds ?? DEFAULT_GRACE_SECONDS;
    const rotated = await store.rotate(id, grace);
    if (!rotated) throw notFound();
    const expires = rotated.previousSecretExpiresAt;
    const answer: RotatedSecret = { id, secret: rotated.secret, previousSecretExpiresAt: expires === null ? null : new Date(expires).toISOString() };
    res.status(200).json(answer);
  });
  return router;
}
