// Entry of the one-file script bundle (dist/creditmeter-panel.js, served at /sdk/creditmeter-panel.js):
// defines the elements and exposes the API as `window.CreditMeter` for pages without a bundler.
import * as panel from "./index.js";

declare global {
  interface Window {
    CreditMeter: typeof panel;
  }
}

window.CreditMeter = panel;
