import { Router } from "express";
import { z } from "zod";
import { CreditmeterError } from "@creditmeter/shared";
import { canOperateEverything } from "../../auth/permissions.js";
import { authenticate, requirePrincipal } from "../authenticate.js";
import type { HttpDeps } from "../deps.js";
import { parseInput } from "../validate.js";
import type { FailedJobs } from "../../ops/failed-jobs.js";

/** GET /v1/ops/failed query (exported for the OpenAPI document). */
export const ListQuery = z.strictObject({
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export const JobParams = z.object({ jobId: z.string().min(1).max(200) });

/**
 * The dead-letter view, ops only (docs/ops.md): `GET /v1/ops/failed?offset&limit` lists failed
 * jobs newest first with their reasons; `POST /v1/ops/failed/:jobId/retry` moves one back to the
 * queue; `DELETE /v1/ops/failed/:jobId` discards it. 404 `not_found` when no failed job has that id.
 */
export function failedJobsRouter(deps: HttpDeps, jobs: FailedJobs): Router {
  const router = Router();
  router.use(authenticate(deps.verifier), requirePrincipal(canOperateEverything, "manage failed events"), function noStore(_req, res, next) {
    res.setHeader("Cache-Control", "no-store");
    next();
  });

  router.get("/failed", async function listFailed(req, res) {
    const { offset, limit } = parseInput(ListQuery, req.query);
    res.json(await jobs.list(offset, limit));
  });

  router.post("/failed/:jobId/retry", async function retryFailed(req, res) {
    const { jobId } = parseInput(JobParams, req.params);
    if (!(await jobs.retry(jobId))) throw new CreditmeterError("not_found", `not_found: no failed job ${jobId}`, "jobId");
    res.json({ jobId, retried: true });
  });

  router.delete("/failed/:jobId", async function discardFailed(req, res) {
    const { jobId } = parseInput(JobParams, req.params);
    if (!(await jobs.discard(jobId))) throw new CreditmeterError("not_found", `not_found: no failed job ${jobId}`, "jobId");
    res.json({ jobId, discarded: true });
  });
  return router;
}
