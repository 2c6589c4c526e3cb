import { join } from "node:path";
import express, { type Router } from "express";
import { uiBuilt } from "./ui-dir.js";

/** The fixed page paths (CONTRACT §9) and the HTML file Vite builds for each. */
export const PAGE_FILES: Readonly<Record<string, string>> = {
  "/": "index.html",
  "/usage": "usage.html",
  "/ops": "ops.html",
};

const NOT_BUILT = "The creditmeter pages are not built yet: run npm run build (or npm run build:ui -w client), then reload.";

/**
 * Serves the built pages and their assets from `uiDir`. Whether the folder exists is checked per
 * request, so building the UI while the server runs needs no restart.
 */
export function staticPagesRouter(uiDir: string): Router {
  const router = express.Router();
  for (const [path, file] of Object.entries(PAGE_FILES)) {
    router.get(path, function servePage(_req, res) {
      if (!uiBuilt(uiDir)) {
        res.status(503).type("text/plain").send(NOT_BUILT);
        return;
      }
      // The HTML names hashed assets: it must be revalidated so a rebuild is picked up at once.
      res.setHeader("Cache-Control", "no-cache");
      res.sendFile(join(uiDir, file));
    });
  }
  router.use(
    "/assets",
    express.static(join(uiDir, "assets"), {
      index: false,
      fallthrough: true,
      immutable: true,
      maxAge: "365d",
    }),
  );
  return router;
}
