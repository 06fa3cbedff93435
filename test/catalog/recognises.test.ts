/**
 * PlanResolution.recognises, the catalog's question to an API's plans: accepted for a credential
 * of a subscription, refused for another one, absent when none is presented or only open plans
 * exist or the address is throttled; it never throws and records nothing itself.
 */
import { describe, expect, it } from 'vitest';
import { PlanResolution } from '../../runtime/plans/resolution.ts';
import { AuthThrottle } from '../../runtime/plans/auth-failures.ts';
import { RateLimitStore } from '../../runtime/rate-limit/store.ts';
import { bundleApi } from '../support/bundles.ts';
import { newApiKey, request } from '../plans/fixtures.ts';

const key = newApiKey();
const api = bundleApi('private', {
  plans: { open: { type: 'keyless', name: 'Open', status: 'published' }, gold: { type: 'api-key', name: 'Gold', status: 'published', queryParam: 'key' } },
  subscriptions: { acme: { plan: 'gold', apiKeys: [{ hash: key.hash }] } },
});

function resolution(limit = { failures: 1, windowSeconds: 60 }) {
  const authThrottle = new AuthThrottle(limit);
  return { plans: new PlanResolution(api, undefined, { authThrottle, rateLimits: new RateLimitStore() }), authThrottle };
}

describe('PlanResolution.recognises', () => {
  it('accepts a subscription\'s key (header or the plan\'s query parameter), refuses another, and sees none without one', async () => {
    const { plans } = resolution();
    expect(await plans.recognises(request({ 'x-api-key': key.key }))).toBe('accepted');
    expect(await plans.recognises(request({}, `key=${encodeURIComponent(key.key)}`))).toBe('accepted');
    expect(await plans.recognises(request({ 'x-api-key': 'nope' }))).toBe('refused');
    // the keyless plan lets anyone call, but opens no private API
    expect(await plans.recognises(request())).toBe('absent');
  });

  it('records nothing itself; once the catalog counted a refusal, the throttled address is absent even with a good key', async () => {
    const { plans, authThrottle } = resolution();
    expect(await plans.recognises(request({ 'x-api-key': 'nope' }))).toBe('refused');
    expect(() => authThrottle.check('private', '127.0.0.1')).not.toThrow();
    plans.refused('127.0.0.1');
    expect(() => authThrottle.check('private', '127.0.0.1')).toThrow(/Too many failed/);
    expect(await plans.recognises(request({ 'x-api-key': key.key }))).toBe('absent');
    expect(await plans.recognises(request({ 'x-api-key': key.key }, '', '10.0.0.9'))).toBe('accepted');
  });
});
