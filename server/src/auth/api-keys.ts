// API keys (CONTRACT §5 v1.1): `cmk_<id>_<secret>`, stored in Redis as a SHA-256 of the secret only.
// A key carries 256 random bits, so a fast hash is as safe as a slow one here (docs/decisions.md).
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import {
  API_KEY_PREFIX,
  CreditmeterError,
  type ApiKeyCreateBody,
  type ApiKeyCreated,
  type ApiKeyInfo,
} from "@creditmeter/shared";
import type { AppRedis } from "../redis/redis-client.js";
import type { AuthVerifier, Principal } from "./principal.js";

const KEY_PATTERN = /^cmk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

/** What Redis keeps of a key: everything but the key, plus the secret's hash. */
const StoredKey = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(["worker", "ops"]),
  accountId: z.string().nullable(),
  createdAt: z.string(),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
});
type StoredKey = z.infer<typeof StoredKey>;

export interface ApiKeyOptions {
  redis: AppRedis;
  /** CREDITMETER_KEY_PREFIX. */
  namespace: string;
  /** How long a process trusts what it read of a key: the bound on how late a revocation is seen. */
  cacheMs?: number;
  /** lastUsedAt is written at most this often per key and process (a write per request is waste). */
  touchEveryMs?: number;
  onError?: (err: unknown) => void;
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

function unauthorized(): CreditmeterError {
  // One message for every bad key: a caller learns nothing about which part was wrong.
  return new CreditmeterError("unauthorized", "unauthorized: invalid API key");
}

/** Creates, lists, revokes and verifies API keys; every process reads the same Redis hash. */
export class ApiKeyStore {
  private readonly cache = new Map<string, { rec: StoredKey | null; at: number }>();
  private readonly touched = new Map<string, number>();
  private readonly keysKey: string;
  private readonly usedKey: string;

  constructor(private readonly opts: ApiKeyOptions) {
    // One hash tag: both hashes live in one Redis Cluster slot.
    this.keysKey = `${opts.namespace}:{apikeys}:keys`;
    this.usedKey = `${opts.namespace}:{apikeys}:used`;
  }

  /** Makes a key; the answer is the only place the key ever appears. */
  async create(body: ApiKeyCreateBody): Promise<ApiKeyCreated> {
    const idHex = randomBytes(8).toString("hex");
    const secret = randomBytes(32).toString("base64url");
    const rec: StoredKey = {
      id: `key_${idHex}`,
      name: body.name,
      role: body.role,
      accountId: body.accountId ?? null,
      createdAt: new Date().toISOString(),
      hash: sha256(secret).toString("hex"),
    };
    await this.opts.redis.hSet(this.keysKey, rec.id, JSON.stringify(rec));
    const { hash: _hash, ...shown } = rec;
    return { ...shown, key: `${API_KEY_PREFIX}${idHex}_${secret}` };
  }

  /** Every key, oldest first, with when it was last used; never the key or its hash. */
  async list(): Promise<ApiKeyInfo[]> {
    const [all, used] = await Promise.all([
      this.opts.redis.hGetAll(this.keysKey),
      this.opts.redis.hGetAll(this.usedKey),
    ]);
    const keys: ApiKeyInfo[] = [];
    for (const raw of Object.values(all)) {
      const rec = this.parse(raw);
      if (!rec) continue;
      const { hash: _hash, ...info } = rec;
      keys.push({ ...info, lastUsedAt: used[rec.id] ?? null });
    }
    return keys.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  /** Revokes a key for good; false when there was none of that id. */
  async revoke(id: string): Promise<boolean> {
    const removed = await this.opts.redis.hDel(this.keysKey, id);
    await this.opts.redis.hDel(this.usedKey, id);
    this.cache.delete(id);
    return removed > 0;
  }

  /** The principal of a valid key, or `unauthorized`; the secret is compared in constant time. */
  async verify(token: string): Promise<Principal> {
    const match = KEY_PATTERN.exec(token);
    const idHex = match?.[1];
    const secret = match?.[2];
    if (idHex === undefined || secret === undefined) throw unauthorized();
    const rec = await this.lookup(`key_${idHex}`);
    if (!rec || !timingSafeEqual(sha256(secret), Buffer.from(rec.hash, "hex"))) throw unauthorized();
    this.touch(rec.id);
    const scope = rec.accountId === null ? {} : { accountScope: rec.accountId };
    return { accountId: rec.accountId ?? rec.id, role: rec.role, keyId: rec.id, ...scope };
  }

  private parse(raw: string): StoredKey | null {
    try {
      const parsed = StoredKey.safeParse(JSON.parse(raw));
      return parsed.success ? parsed.data : null;
    } catch {
      return null;
    }
  }

  private async lookup(id: string): Promise<StoredKey | null> {
    const now = Date.now();
    const hit = this.cache.get(id);
    if (hit && now - hit.at < (this.opts.cacheMs ?? 1000)) return hit.rec;
    const raw = await this.opts.redis.hGet(this.keysKey, id);
    const rec = raw === null || raw === undefined ? null : this.parse(raw);
    // Bounded: made-up ids must not grow the cache without end.
    if (this.cache.size >= 10_000) this.cache.clear();
    this.cache.set(id, { rec, at: now });
    return rec;
  }

  private touch(id: string): void {
    const now = Date.now();
    const last = this.touched.get(id);
    if (last !== undefined && now - last < (this.opts.touchEveryMs ?? 60_000)) return;
    if (this.touched.size >= 10_000) this.touched.clear();
    this.touched.set(id, now);
    this.opts.redis
      .hSet(this.usedKey, id, new Date(now).toISOString())
      .catch((err: unknown) => this.opts.onError?.(err));
  }
}

/** A verifier that takes API keys (`cmk_…`) as well as the JWTs `jwt` verifies. */
export function withApiKeys(jwt: AuthVerifier, keys: ApiKeyStore): AuthVerifier {
  return {
    verify: (token) => (token.startsWith(API_KEY_PREFIX) ? keys.verify(token) : jwt.verify(token)),
  };
}
