export type { AuthVerifier, Principal } from "./principal.js";
export { createAuthVerifier, type AuthConfig } from "./verifier.js";
export { mintToken, type MintOptions } from "./mint-token.js";
export { canOperate, canPostEvents, canReadAccount } from "./permissions.js";
