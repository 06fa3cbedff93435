/**
 * api-key plan: the key comes from the plan's header (default X-Api-Key) or, when the header is
 * absent, its query parameter (default `api-key`). The presented key is SHA-256 hashed and looked up
 * among the hashes of this plan's subscriptions (precomputed per bundle); the final comparison is
 * constant-time. Keys are never kept or logged, only their hashes (which /status does not show either).
 * Codes: API_KEY_MISSING, API_KEY_INVALID (unknown or expired key), SUBSCRIPTION_NOT_ACTIVE (not
 * `accepted`, or outside startingAt/endingAt). The Caller expires with the key or the subscription.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiKeyPlan } from '../../schemas/types.ts';
import { errors } from '../../core/errors.ts';
import type { PlanFactory, RequestView } from './plan.ts';
import { instant, isActive, subscriptionWindow, type SubscriptionWindow } from './subscription-window.ts';

/** Longest key accepted: anything longer is refused before hashing. */
const MAX_KEY_LENGTH = 512;
const HASH = /^[0-9a-f]{64}$/;

interface KeyEntry {
  readonly digest: Buffer;
  readonly expireAt: number;
  readonly subscription: SubscriptionWindow;
}

export const createApiKeyPlan: PlanFactory<ApiKeyPlan> = (key, config, context) => {
  const header = (config.header ?? 'X-Api-Key').toLowerCase();
  const queryParam = config.queryParam ?? 'api-key';

  // Hash (hex) -> every subscription of this plan holding it (normally one; the compiler refuses duplicates).
  const byHash = new Map<string, KeyEntry[]>();
  for (const [name, subscription] of Object.entries(context.subscriptions)) {
    const window = subscriptionWindow(name, subscription);
    for (const apiKey of subscription.apiKeys ?? []) {
      const hash = apiKey.hash.toLowerCase();
      if (!HASH.test(hash)) continue; // can never match; the compiler reports it
      const entry = { digest: Buffer.from(hash, 'hex'), expireAt: instant(apiKey.expireAt, Infinity), subscription: window };
      byHash.set(hash, [...(byHash.get(hash) ?? []), entry]);
    }
  }

  const presented = (request: RequestView): string | undefined => {
    const value = request.headers[header];
    if (value !== undefined) return Array.isArray(value) ? value[0] ?? '' : value;
    return request.query.get(queryParam) ?? undefined;
  };

  return {
    key,
    type: 'api-key',
    presents: (request) => presented(request) !== undefined,
    async authenticate(request) {
      const apiKey = presented(request)?.trim();
      if (apiKey === undefined) {
        throw errors.unauthorized('API_KEY_MISSING', `An API key is required: send it in the ${config.header ?? 'X-Api-Key'} header.`);
      }
      if (apiKey === '' || apiKey.length > MAX_KEY_LENGTH) throw invalid();
      const digest = createHash('sha256').update(apiKey, 'utf8').digest();
      const candidates = byHash.get(digest.toString('hex')) ?? [];
      const t = Date.now();
      let matched: KeyEntry | undefined;
      for (const entry of candidates) {
        if (!timingSafeEqual(entry.digest, digest)) continue;
        matched ??= entry;
        if (t < entry.expireAt && isActive(entry.subscription, t)) {
          return {
            planKey: key,
            planType: 'api-key',
            subscription: entry.subscription.name,
            rateKey: `sub:${entry.subscription.name}`,
            ...expiry(Math.min(entry.expireAt, entry.subscription.endingAt)),
          };
        }
      }
      if (!matched) throw invalid();
      if (t >= matched.expireAt) throw invalid('The API key has expired.');
      throw errors.unauthorized('SUBSCRIPTION_NOT_ACTIVE', 'The subscription of this API key is not active.');
    },
  };
};

function invalid(message = 'The API key is not valid for this API.') {
  return errors.unauthorized('API_KEY_INVALID', message);
}

function expiry(at: number): { expiresAt?: number } {
  return Number.isFinite(at) ? { expiresAt: at } : {};
}
