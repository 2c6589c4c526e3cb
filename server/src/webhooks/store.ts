import { randomBytes } from "node:crypto";
import { z } from "zod";
import { AccountId, WebhookDelivery, WebhookEventType, type CreateWebhookBody, type Webhook, type WebhookEventType as EventType } from "@creditmeter/shared";
import type { AppRedis } from "../redis/redis-client.js";
import { newWebhookSecret } from "./signature.js";

/** A webhook as stored: with its secret and, during a rotation's grace period, the previous one. */
const StoredWebhook = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(WebhookEventType),
  accountId: AccountId.nullable(),
  createdAt: z.string(),
  secret: z.string(),
  previousSecret: z.string().nullable().default(null),
  previousSecretExpiresAt: z.number().nullable().default(null),
});
export type StoredWebhook = z.infer<typeof StoredWebhook>;

/** Newest deliveries kept per webhook for GET …/deliveries; older records are dropped. */
const DELIVERIES_KEPT = 1000;

/** The public view of a stored webhook (no secret). */
export function publicWebhook(w: StoredWebhook): Webhook {
  return { id: w.id, url: w.url, events: w.events, accountId: w.accountId, createdAt: w.createdAt };
}

/** The secrets that sign a delivery now: the current one, and the previous one during its grace. */
export function signingSecrets(w: StoredWebhook, nowMs: number): string[] {
  const previous = w.previousSecret !== null && (w.previousSecretExpiresAt ?? 0) > nowMs ? [w.previousSecret] : [];
  return [w.secret, ...previous];
}

/**
 * Webhooks and their delivery records in Redis. The registry is one hash (a handful of
 * webhooks, read whole when an event fires); each webhook's deliveries are a hash of records
 * plus a sorted set by creation time, under one hash tag so both move in one MULTI.
 */
export class WebhookStore {
  private readonly registry: string;

  constructor(
    private readonly redis: AppRedis,
    private readonly namespace: string,
  ) {
    this.registry = `${namespace}:webhooks`;
  }

  private deliveryKeys(webhookId: string): { records: string; order: string } {
    const base = `${this.namespace}:{wh-${webhookId}}`;
    return { records: `${base}:delivery`, order: `${base}:deliveries` };
  }

  /** Creates a webhook with a fresh secret. */
  async create(body: CreateWebhookBody, now = new Date()): Promise<StoredWebhook> {
    const webhook: StoredWebhook = {
      id: `wh_${randomBytes(12).toString("hex")}`,
      url: body.url,
      events: [...new Set(body.events)],
      accountId: body.accountId ?? null,
      createdAt: now.toISOString(),
      secret: newWebhookSecret(),
      previousSecret: null,
      previousSecretExpiresAt: null,
    };
    await this.redis.hSet(this.registry, webhook.id, JSON.stringify(webhook));
    return webhook;
  }

  /** Every webhook, oldest first. */
  async list(): Promise<StoredWebhook[]> {
    const raw = await this.redis.hGetAll(this.registry);
    return Object.values(raw)
      .map((json) => StoredWebhook.parse(JSON.parse(json)))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  /** The webhooks an event of `type` for `accountId` goes to. */
  async subscribers(type: EventType, accountId: string): Promise<StoredWebhook[]> {
    return (await this.list()).filter((w) => w.events.includes(type) && (w.accountId === null || w.accountId === accountId));
  }

  async get(id: string): Promise<StoredWebhook | null> {
    const json = await this.redis.hGet(this.registry, id);
    return json ? StoredWebhook.parse(JSON.parse(json)) : null;
  }

  /** Deletes a webhook and its delivery records; pending deliveries are dropped when they come up. */
  async delete(id: string): Promise<boolean> {
    const removed = await this.redis.hDel(this.registry, id);
    const keys = this.deliveryKeys(id);
    await this.redis.del([keys.records, keys.order]);
    return removed > 0;
  }

  /**
   * A new secret; the old one keeps signing (as a second v1) for `graceSeconds`. Concurrent
   * rotations of one webhook are not expected (an ops action); the last write wins.
   */
  async rotate(id: string, graceSeconds: number, nowMs = Date.now()): Promise<StoredWebhook | null> {
    const current = await this.get(id);
    if (!current) return null;
    const next: StoredWebhook = {
      ...current,
      secret: newWebhookSecret(),
      previousSecret: graceSeconds > 0 ? current.secret : null,
      previousSecretExpiresAt: graceSeconds > 0 ? nowMs + graceSeconds * 1000 : null,
    };
    await this.redis.hSet(this.registry, id, JSON.stringify(next));
    return next;
  }

  /** Records a delivery when it is first enqueued; a repeat (another process, a retry) changes nothing. */
  async recordEnqueued(webhookId: string, delivery: WebhookDelivery): Promise<void> {
    const keys = this.deliveryKeys(webhookId);
    const created = await this.redis.hSetNX(keys.records, delivery.id, JSON.stringify(delivery));
    if (!created) return;
    await this.redis.zAdd(keys.order, { score: Date.parse(delivery.createdAt), value: delivery.id });
    const count = await this.redis.zCard(keys.order);
    if (count > DELIVERIES_KEPT * 1.1) await this.trim(webhookId);
  }

  private async trim(webhookId: string): Promise<void> {
    const keys = this.deliveryKeys(webhookId);
    const old = await this.redis.zRange(keys.order, 0, -(DELIVERIES_KEPT + 1));
    if (old.length === 0) return;
    await this.redis.zRem(keys.order, old);
    await this.redis.hDel(keys.records, old);
  }

  /**
   * Writes a delivery's record after an attempt. An upsert: a process that died between
   * queueing the delivery and recording it must not leave the delivery without a record.
   */
  async recordAttempt(webhookId: string, delivery: WebhookDelivery): Promise<void> {
    const keys = this.deliveryKeys(webhookId);
    await this.redis.hSet(keys.records, delivery.id, JSON.stringify(delivery));
    await this.redis.zAdd(keys.order, { score: Date.parse(delivery.createdAt), value: delivery.id }, { NX: true });
  }

  async delivery(webhookId: string, deliveryId: string): Promise<WebhookDelivery | null> {
    const json = await this.redis.hGet(this.deliveryKeys(webhookId).records, deliveryId);
    return json ? WebhookDelivery.parse(JSON.parse(json)) : null;
  }

  /** The newest `limit` deliveries of a webhook, newest first. */
  async deliveries(webhookId: string, limit = 100): Promise<WebhookDelivery[]> {
    const keys = this.deliveryKeys(webhookId);
    const ids = await this.redis.zRange(keys.order, 0, limit - 1, { REV: true });
    if (ids.length === 0) return [];
    const raw = await this.redis.hmGet(keys.records, ids);
    return raw.flatMap((json) => (typeof json === "string" ? [WebhookDelivery.parse(JSON.parse(json))] : []));
  }
}
