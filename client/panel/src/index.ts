// @creditmeter/panel: the SDK (createCreditMeter) and the custom elements (CONTRACT §9).
// Importing this module defines the elements; import "@creditmeter/panel/sdk" for the SDK alone.
export * from "./sdk/index.js";
export * from "./ui/index.js";
