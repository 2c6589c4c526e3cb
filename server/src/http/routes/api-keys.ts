import { Router } from "express";
import { ApiKeyCreateBody, ApiKeyParams, CreditmeterError } from "@creditmeter/shared";
import { canOperateEverything } from "../../auth/permissions.js";
import type { ApiKeyStore } from "../../auth/api-keys.js";
import { authenticate, requirePrincipal } from "../authenticate.js";
import type { HttpDeps } from "../deps.js";
import { jsonBody, parseBody, parseInput } from "../validate.js";

/** What the routes need of the key store. */
export type ApiKeyAdmin = Pick<ApiKeyStore, "create" | "list" | "revoke">;

/** POST/GET /v1/api-keys and DELETE /v1/api-keys/:id (CONTRACT §5 v1.1): ops not scoped to an account. */
export function apiKeysRouter(deps: HttpDeps, keys: ApiKeyAdmin): Router {
  const router = Router();
  router.use("/api-keys", authenticate(deps.verifier), requirePrincipal(canOperateEverything, "manage API keys"), function noStore(_req, res, next) {
    // The create answer carries the key: no cache may keep it.
    res.setHeader("Cache-Control", "no-store");
    next();
  });
  router.post("/api-keys", jsonBody(deps.config.maxBodyBytes), async function createKey(req, res) {
    res.status(201).json(await keys.create(parseBody(ApiKeyCreateBody, req.body)));
  });
  router.get("/api-keys", async function listKeys(_req, res) {
    res.json({ keys: await keys.list() });
  });
  router.delete("/api-keys/:id", async function revokeKey(req, res) {
    const { id } = parseInput(ApiKeyParams, req.params);
    if (!(await keys.revoke(id))) throw new CreditmeterError("not_found", `not_found: no API key ${id}`, "id");
    res.status(204).end();
  });
  return router;
}
