import { Router } from "express";
import type { HttpDeps } from "../deps.js";

/** GET /v1/pricing: the price book in force; public, like the product's pricing page. */
export function pricingRouter(deps: HttpDeps): Router {
  const router = Router();
  router.get("/pricing", function readPricing(_req, res) {
    res.json(deps.config.priceBook);
  });
  return router;
}
