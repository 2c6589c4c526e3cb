export { createCreditMeter, type ConnectionTuning } from "./create-credit-meter.js";
export { SeqGate } from "./seq-gate.js";
export type { ConnectionState, CreditMeter, CreditMeterOptions, Unsubscribe } from "./types.js";
