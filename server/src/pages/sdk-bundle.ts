import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import express, { type Router } from "express";

/** The stable path of the panel's one-file script bundle (README "Embed the panel"). */
export const SDK_BUNDLE_PATH = "/sdk/creditmeter-panel.js";
const FILE = "creditmeter-panel.js";

/** Where `@creditmeter/panel`'s build writes the bundle (client/panel/dist), resolved from this file. */
export function defaultPanelDistDir(): string {
  return join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "client", "panel", "dist");
}

/**
 * Serves the panel bundle and its source map to pages on any origin: `<script src>` needs no
 * CORS, but a cross-origin resource policy of `same-origin` would block it, so this route says
 * `cross-origin`. The path never changes between releases, so browsers revalidate (ETag) each load.
 */
export function sdkBundleRouter(distDir: string): Router {
  const router = express.Router();
  for (const name of [FILE, `${FILE}.map`]) {
    router.get(`/sdk/${name}`, function serveBundle(_req, res) {
      const path = join(distDir, name);
      if (!existsSync(path)) {
        res.status(503).type("text/plain").send("The panel bundle is not built yet: run npm run build -w @creditmeter/panel.");
        return;
      }
      res.setHeader("Cache-Control", "no-cache");
      res.setHeader("Cross-Origin-Resource-Policy", "cross-origin");
      res.setHeader("Access-Control-Allow-Origin", "*");
      res.sendFile(path);
    });
  }
  return router;
}
