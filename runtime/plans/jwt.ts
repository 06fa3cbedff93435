/**
 * jwt plan (jose): the token comes from `Authorization: Bearer` or, when that header is absent, the
 * query parameter `access_token`. HS* verify with a secret reference; RS*, ES*, PS* with a PEM public
 * key (or certificate) or a JWKS URL (cached, refreshed on unknown `kid` at most every cooldown,
 * fetched with a bounded time-out and a bounded body, MAX_JWKS_BYTES). Only the plan's `signature` algorithm is accepted. `iss`, `aud`,
 * `exp`, `nbf`, `iat` are checked with `leewaySeconds` (the bounded clock skew, at most 300 s): a token
 * not valid yet or issued later than now + leeway is JWT_NOT_YET_VALID, one expired before
 * now − leeway JWT_EXPIRED. Without `exp` a token is JWT_EXP_MISSING unless `requireExp` is false
 * (then it lives as long as the subscription). `requiredScopes` against `scope` (space-separated)
 * or `scp` (array). The client id (clientIdClaim if configured, else azp, else aud, else client_id)
 * must belong to an accepted subscription of this plan inside its window. The Caller expires at
 * `exp` (plus leeway) or the subscription's end, whichever is first: streams end then (WebSocket 1008).
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { createRemoteJWKSet, customFetch, jwtVerify, type JWTPayload } from 'jose';
import type { JwtPlan } from '../../schemas/types.ts';
import { GatewayError } from '../../core/errors.ts';
import type { Caller, PlanFactory, RequestView } from './plan.ts';
import { isActive, subscriptionWindow, type SubscriptionWindow } from './subscription-window.ts';
import { readResponseBounded } from '../http/response-body.ts';

/** Longest token accepted (bytes of the compact serialisation). */
const MAX_TOKEN_LENGTH = 8 * 1024;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const BEARER = /^bearer(?:\s+(.*))?$/i;
/** JWKS fetch: bounded time-out, cache, and a cooldown between refreshes triggered by unknown kids. */
export const JWKS_OPTIONS = { timeoutDuration: 2_000, cooldownDuration: 30_000, cacheMaxAge: 600_000 } as const;
/** Largest JWKS response body read; a larger one is refused like an unreachable JWKS (503 JWKS_UNAVAILABLE). */
export const MAX_JWKS_BYTES = 256 * 1024;

type VerifyKey = Parameters<typeof jwtVerify>[1];

export const createJwtPlan: PlanFactory<JwtPlan> = (key, config, context) => {
  const algorithm = config.signature;
  const verifyKey = buildVerifyKey(key, config, context.resolveSecret);
  const leeway = config.leewaySeconds ?? 0;
  const requiredClaims = config.requireExp === false ? [] : ['exp'];
  const requiredScopes = config.requiredScopes ?? [];

  const byClientId = new Map<string, SubscriptionWindow[]>();
  for (const [name, subscription] of Object.entries(context.subscriptions)) {
    if (!subscription.clientId) continue;
    byClientId.set(subscription.clientId, [...(byClientId.get(subscription.clientId) ?? []), subscriptionWindow(name, subscription)]);
  }

  return {
    key,
    type: 'jwt',
    presents: (request) => tokenOf(request) !== undefined,
    async authenticate(request) {
      const token = tokenOf(request);
      if (token === undefined) throw unauthorized('JWT_MISSING', 'A bearer token is required: send it in the Authorization header.');
      if (token.length > MAX_TOKEN_LENGTH || !COMPACT_JWS.test(token)) {
        throw unauthorized('JWT_MALFORMED', 'The token is not a well-formed JWT.');
      }
      let claims: JWTPayload;
      try {
        ({ payload: claims } = await jwtVerify(token, verifyKey as VerifyKey, {
          algorithms: [algorithm],
          issuer: config.issuer,
          audience: config.audience,
          clockTolerance: leeway,
          requiredClaims,
        }));
      } catch (error) {
        throw verificationError(error, config.jwksUrl !== undefined);
      }
      // jose checks iat only with maxTokenAge (which would make iat mandatory): a token issued in the future is not valid yet.
      if (typeof claims.iat === 'number' && claims.iat > Date.now() / 1000 + leeway) {
        throw unauthorized('JWT_NOT_YET_VALID', 'The token was issued in the future (check the issuer\'s clock).');
      }
      const missing = requiredScopes.filter((scope) => !scopesOf(claims).has(scope));
      if (missing.length > 0) {
        throw new GatewayError('JWT_SCOPE_MISSING', 403, `The token lacks the required scope(s): ${missing.join(' ')}.`, 1008, {
          'WWW-Authenticate': `Bearer error="insufficient_scope", scope="${requiredScopes.join(' ')}"`,
        });
      }
      const t = Date.now();
      const clientIds = clientIdsOf(claims, config.clientIdClaim);
      const candidates = clientIds.flatMap((id) => byClientId.get(id) ?? []);
      if (candidates.length === 0) throw unauthorized('JWT_UNKNOWN_CLIENT', 'The token\'s client has no subscription to this plan.');
      const subscription = candidates.find((candidate) => isActive(candidate, t));
      if (!subscription) throw unauthorized('SUBSCRIPTION_NOT_ACTIVE', 'The subscription of this client is not active.');
      const ends = Math.min(typeof claims.exp === 'number' ? (claims.exp + leeway) * 1000 : Infinity, subscription.endingAt);
      const caller: Caller = {
        planKey: key,
        planType: 'jwt',
        subscription: subscription.name,
        rateKey: `sub:${subscription.name}`,
        ...(clientIds.find((id) => byClientId.has(id)) !== undefined ? { clientId: clientIds.find((id) => byClientId.has(id))! } : {}),
        claims: Object.freeze({ ...claims }) as Record<string, unknown>,
        ...(Number.isFinite(ends) ? { expiresAt: ends } : {}),
      };
      return caller;
    },
  };
};

/** The token, `''` when the header or parameter is there but empty, undefined when absent. */
function tokenOf(request: RequestView): string | undefined {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const match = BEARER.exec(header.trim());
    if (match) return (match[1] ?? '').trim();
    // Another scheme (Basic, ...) is not this plan's credential; the query parameter may still be.
  }
  const query = request.query.get('access_token');
  return query === null ? undefined : query.trim();
}

function buildVerifyKey(planKey: string, config: JwtPlan, resolveSecret: (ref: NonNullable<JwtPlan['secret']>) => string): VerifyKey | KeyObject {
  const family = config.signature.slice(0, 2);
  if (family === 'HS') {
    if (!config.secret) throw new Error(`plan "${planKey}": ${config.signature} needs "secret" (a secret reference)`);
    return new TextEncoder().encode(resolveSecret(config.secret));
  }
  if (config.publicKey) {
    let publicKey: KeyObject;
    try {
      publicKey = createPublicKey(config.publicKey);
    } catch (error) {
      throw new Error(`plan "${planKey}": "publicKey" is not a PEM public key or certificate (${(error as Error).message})`);
    }
    const expected = family === 'ES' ? ['ec'] : ['rsa', 'rsa-pss'];
    if (!expected.includes(publicKey.asymmetricKeyType ?? '')) {
      throw new Error(`plan "${planKey}": "publicKey" is a ${publicKey.asymmetricKeyType} key, ${config.signature} needs ${expected[0]}`);
    }
    return publicKey;
  }
  if (config.jwksUrl) return createRemoteJWKSet(new URL(config.jwksUrl), { ...JWKS_OPTIONS, [customFetch]: boundedFetch });
  throw new Error(`plan "${planKey}": ${config.signature} needs "publicKey" or "jwksUrl"`);
}

/**
 * fetch for jose's JWKS retrieval that reads at most MAX_JWKS_BYTES of the body: a larger declared
 * Content-Length or a longer stream rejects (and cancels the body), which jose passes on as a fetch
 * failure. Non-200 responses are returned as they are (jose refuses them without reading the body).
 */
async function boundedFetch(url: string, options: RequestInit): Promise<Response> {
  const response = await fetch(url, options);
  if (response.status !== 200 || !response.body) return response;
  const body = await readResponseBounded(response, MAX_JWKS_BYTES, 'the JWKS response');
  return new Response(new Uint8Array(body), { status: 200, headers: { 'content-type': response.headers.get('content-type') ?? 'application/json' } });
}

function unauthorized(code: string, message: string): GatewayError {
  return new GatewayError(code, 401, message, 1008, {
    'WWW-Authenticate': code === 'JWT_MISSING' ? 'Bearer' : 'Bearer error="invalid_token"',
  });
}

/** jose errors -> stable codes. Failures to fetch the JWKS are the gateway's problem (503), not the client's. */
function verificationError(error: unknown, remoteKeys: boolean): GatewayError {
  const { code, claim, reason } = error as { code?: string; claim?: string; reason?: string };
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return unauthorized('JWT_EXPIRED', 'The token has expired.');
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (claim === 'exp' && reason === 'missing') return unauthorized('JWT_EXP_MISSING', 'The token has no "exp" (expiry) claim; this plan requires one.');
      if (claim === 'nbf') return unauthorized('JWT_NOT_YET_VALID', 'The token is not valid yet.');
      if (claim === 'aud') return unauthorized('JWT_INVALID_AUDIENCE', 'The token is not meant for this audience.');
      if (claim === 'iss') return unauthorized('JWT_INVALID_ISSUER', 'The token was not issued by the expected issuer.');
      return unauthorized('JWT_MALFORMED', `The token's "${claim ?? 'claims'}" claim is not valid.`);
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return unauthorized('JWT_INVALID_SIGNATURE', 'The token\'s signature is not valid.');
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
    case 'ERR_JOSE_NOT_SUPPORTED':
    case 'ERR_JWK_INVALID':
      return unauthorized('JWT_MALFORMED', 'The token is not a well-formed JWT.');
    default:
      if (remoteKeys) {
        return new GatewayError('JWKS_UNAVAILABLE', 503, 'The keys to verify the token cannot be fetched right now. Retry later.', 1011, {
          'Retry-After': '5',
        });
      }
      return unauthorized('JWT_MALFORMED', 'The token is not a well-formed JWT.');
  }
}

function scopesOf(claims: JWTPayload): Set<string> {
  const scopes = new Set<string>();
  const add = (value: unknown): void => {
    if (typeof value === 'string') value.split(/\s+/).filter(Boolean).forEach((s) => scopes.add(s));
    else if (Array.isArray(value)) value.filter((s): s is string => typeof s === 'string').forEach((s) => scopes.add(s));
  };
  add(claims.scope);
  add(claims.scp);
  return scopes;
}

/** Candidate client ids, in order: clientIdClaim if configured (only it), else azp, else aud, else client_id. */
function clientIdsOf(claims: JWTPayload, clientIdClaim: string | undefined): string[] {
  const strings = (value: unknown): string[] =>
    typeof value === 'string' ? [value] : Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  if (clientIdClaim) return strings(claims[clientIdClaim]);
  for (const claim of ['azp', 'aud', 'client_id']) {
    const ids = strings(claims[claim]);
    if (ids.length > 0) return ids;
  }
  return [];
}
