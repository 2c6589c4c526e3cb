import type { Express } from "express";
import type { Config } from "../config/config.js";
import type { LedgerApi } from "../ledger/api.js";
import type { AuthVerifier } from "../auth/principal.js";
import { staticPagesRouter } from "./static-pages.js";
import { devRouter } from "./dev-routes.js";
import type { DemoLauncher } from "./demo-launcher.js";
import { defaultUiDir } from "./ui-dir.js";
import { defaultPanelDistDir, sdkBundleRouter } from "./sdk-bundle.js";

export interface PagesDeps {
  config: Config;
  ledger: LedgerApi;
  verifier: AuthVerifier;
  /** The built UI (client/dist/ui by default). */
  uiDir?: string;
  /** The panel package's build, holding the script bundle (client/panel/dist by default). */
  panelDistDir?: string;
  /** Runs `/dev/demo` sessions; the dev routes are mounted only when it is given (never in production). */
  demo?: DemoLauncher;
}

/**
 * The `mountPages` hook of createHttpApp: the panel, usage and ops pages (CONTRACT §9) and,
 * outside production only, the development login and demo routes.
 */
export function mountPages(deps: PagesDeps): (app: Express) => void {
  return function mount(app) {
    if (!deps.config.production && deps.demo) {
      app.use(devRouter({ config: deps.config, ledger: deps.ledger, verifier: deps.verifier, demo: deps.demo }));
    }
    app.use(staticPagesRouter(deps.uiDir ?? defaultUiDir()));
    app.use(sdkBundleRouter(deps.panelDistDir ?? defaultPanelDistDir()));
  };
}

export { ensureDemoAccount, DEMO_ACCOUNT_ID, DEMO_CYCLE_CREDITS } from "./demo-account.js";
export { PAGE_FILES } from "./static-pages.js";
export { SDK_BUNDLE_PATH } from "./sdk-bundle.js";
export { createDemoLauncher, type DemoLauncher } from "./demo-launcher.js";
