export type { AuthVerifier, Principal } from "./principal.js";
export { createAuthVerifier, type AuthConfig } from "./verifier.js";
export { mintToken, type MintOptions } from "./mint-token.js";
export { canOperate, canOperateEverything, canPostEvents, canReadAccount, inScope } from "./permissions.js";
export { ApiKeyStore, withApiKeys, type ApiKeyOptions } from "./api-keys.js";
