// The panel components (CONTRACT §9). Importing this module defines the custom elements.
export { configureCreditMeter, setCreditMeter, getCreditMeter, whenCreditMeter } from "./meter-registry.js";
export { CreditSessionCounter } from "./session-counter.js";
export { CreditBalance } from "./credit-balance.js";
export { LowCreditBanner, LOW_CREDIT_TEXT, type CreditUpgradeDetail, type CreditBannerDismissDetail } from "./low-credit-banner.js";
export { CreditElement } from "./credit-element.js";
export { BUILT_IN_STRINGS, type CreditStrings } from "./strings.js";
export { CreditConnectionStatus } from "./connection-status.js";
export { formatCredits } from "./format.js";
