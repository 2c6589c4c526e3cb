import { createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify, type JWTPayload, type JWTVerifyOptions } from "jose";
import { CreditmeterError, TokenClaims, issuePath } from "@creditmeter/shared";
import { DEV_AUTH_SECRET, type Config } from "../config/config.js";
import type { AuthVerifier, Principal } from "./principal.js";

/** Asymmetric algorithms accepted from the JWKS; HS256 is only ever checked against the secret. */
const JWKS_ALGORITHMS = ["RS256", "PS256", "ES256", "EdDSA"];
/** A bearer token longer than this is an attack or a mistake, not a credential. */
const MAX_TOKEN_LENGTH = 8192;
/** Servers' clocks drift a little; a few seconds of grace avoids spurious 401s at `exp`. */
const CLOCK_TOLERANCE_SECONDS = 5;

const BASE_VERIFY_OPTIONS: JWTVerifyOptions = {
  clockTolerance: CLOCK_TOLERANCE_SECONDS,
  requiredClaims: ["sub", "exp"],
};

function unauthorized(reason: string): CreditmeterError {
  return new CreditmeterError("unauthorized", `unauthorized: ${reason}`);
}

/** Names why jose refused the token without echoing the token back. */
function describeJoseError(err: unknown): string {
  if (err instanceof errors.JWTExpired) return "token expired";
  if (err instanceof errors.JWSSignatureVerificationFailed) return "bad signature";
  if (err instanceof errors.JWTClaimValidationFailed) return `claim ${err.claim}: ${err.reason}`;
  if (err instanceof errors.JOSEAlgNotAllowed) return "algorithm not accepted";
  if (err instanceof errors.JWKSNoMatchingKey) return "no matching key";
  if (err instanceof errors.JWKSTimeout) return "key set unavailable";
  return "invalid token";
}

/**
 * The development secret is public (it is in the source): a production server that only
 * configured a JWKS must not accept HS256 tokens signed with it.
 */
function usableSecret(config: AuthConfig): Uint8Array | undefined {
  if (config.production && config.authSecret === DEV_AUTH_SECRET) return undefined;
  return new TextEncoder().encode(config.authSecret);
}

export type AuthConfig = Pick<Config, "authSecret" | "jwksUrl" | "production"> & Partial<Pick<Config, "jwtIssuer" | "jwtAudience">>;

/**
 * Verifies bearer tokens (CONTRACT §5): HS256 with the configured secret, or an asymmetric
 * algorithm against the JWKS when `jwksUrl` is set. `alg: none`, any other algorithm, a wrong
 * key, an expired token and missing or malformed `sub`/`role`/`exp` all throw `unauthorized`.
 */
export function createAuthVerifier(config: AuthConfig): AuthVerifier {
  const secret = usableSecret(config);
  // When configured (CONTRACT §5 v1.1), a token minted for another service or by another issuer is refused.
  const VERIFY_OPTIONS: JWTVerifyOptions = {
    ...BASE_VERIFY_OPTIONS,
    ...(config.jwtIssuer === undefined ? {} : { issuer: config.jwtIssuer }),
    ...(config.jwtAudience === undefined ? {} : { audience: config.jwtAudience }),
  };
  const jwks = config.jwksUrl ? createRemoteJWKSet(new URL(config.jwksUrl)) : undefined;

  async function verifySignature(token: string, alg: string | undefined): Promise<JWTPayload> {
    if (alg === "HS256" && secret) {
      return (await jwtVerify(token, secret, { ...VERIFY_OPTIONS, algorithms: ["HS256"] })).payload;
    }
    if (jwks && alg !== undefined && JWKS_ALGORITHMS.includes(alg)) {
      return (await jwtVerify(token, jwks, { ...VERIFY_OPTIONS, algorithms: JWKS_ALGORITHMS })).payload;
    }
    throw unauthorized(`algorithm ${alg ?? "(missing)"} not accepted`);
  }

  return {
    async verify(token: string): Promise<Principal> {
      if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) throw unauthorized("malformed token");
      let alg: string | undefined;
      try {
        alg = decodeProtectedHeader(token).alg;
      } catch {
        throw unauthorized("malformed token");
      }
      let payload: JWTPayload;
      try {
        payload = await verifySignature(token, alg);
      } catch (err) {
        if (err instanceof CreditmeterError) throw err;
        throw unauthorized(describeJoseError(err));
      }
      const claims = TokenClaims.safeParse(payload);
      if (!claims.success) {
        const issue = claims.error.issues[0];
        throw unauthorized(`claim ${issue ? issuePath(issue) : "(root)"}: ${issue?.message ?? "invalid"}`);
      }
      return { accountId: claims.data.sub, role: claims.data.role, expiresAt: claims.data.exp * 1000 };
    },
  };
}
