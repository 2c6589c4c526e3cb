export { createCreditMeter, type ConnectionTuning } from "./create-credit-meter.js";
export { SeqGate } from "./seq-gate.js";
export { CreditMeterRequestError } from "./request-error.js";
export type { ConnectionState, CreditMeter, CreditMeterOptions, SessionState, Unsubscribe } from "./types.js";
