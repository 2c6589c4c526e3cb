// API keys for workers and services that should not mint JWTs (CONTRACT §5, v1.1).
import { z } from "zod";
import { AccountId, IsoTime } from "./ids.js";

/** Every API key starts with this, so a bearer value is told from a JWT by its first bytes. */
export const API_KEY_PREFIX = "cmk_";

/** POST /v1/api-keys */
export const ApiKeyCreateBody = z.strictObject({
  name: z.string().min(1).max(100),
  role: z.enum(["worker", "ops"]),
  accountId: AccountId.optional(),
});
export type ApiKeyCreateBody = z.infer<typeof ApiKeyCreateBody>;

/** A key as listed: never the key itself. */
export const ApiKeyInfo = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(["worker", "ops"]),
  accountId: AccountId.nullable(),
  createdAt: IsoTime,
  lastUsedAt: IsoTime.nullable(),
});
export type ApiKeyInfo = z.infer<typeof ApiKeyInfo>;

/** POST /v1/api-keys answer: the only time `key` is ever shown. */
export const ApiKeyCreated = ApiKeyInfo.omit({ lastUsedAt: true }).extend({ key: z.string().regex(/^cmk_/, "must start with cmk_") });
export type ApiKeyCreated = z.infer<typeof ApiKeyCreated>;

/** GET /v1/api-keys */
export const ApiKeyList = z.object({ keys: z.array(ApiKeyInfo) });
export type ApiKeyList = z.infer<typeof ApiKeyList>;

/** DELETE /v1/api-keys/:id path */
export const ApiKeyParams = z.strictObject({ id: z.string().regex(/^key_[0-9a-f]{16}$/, "must be an API key id") });
