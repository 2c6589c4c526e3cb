import { Router } from "express";
import { buildOpenApiDocument } from "../openapi/document.js";

/** GET /v1/openapi.json (open): built once, on the first request, from the operations table; `version` is the contract version. */
export function openApiRouter(version: string): Router {
  const router = Router();
  let doc: object | null = null;
  router.get("/openapi.json", function readOpenApi(_req, res) {
    doc ??= buildOpenApiDocument(version);
    res.json(doc);
  });
  return router;
}
