import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ApiKeyPlan, Subscription } from '../../schemas/types.ts';
import { createApiKeyPlan } from '../../runtime/plans/api-key.ts';
import { newApiKey, rejection, request } from './fixtures.ts';

const gold: ApiKeyPlan = { type: 'api-key', name: 'Gold', status: 'published' };
const acme = newApiKey();
const rotated = newApiKey();
const paused = newApiKey();
const future = newApiKey();
const ended = newApiKey();

function plan(config: ApiKeyPlan = gold) {
  const subscriptions: Record<string, Subscription> = {
    acme: { plan: 'gold', status: 'accepted', apiKeys: [{ hash: acme.hash }, { hash: rotated.hash, expireAt: '2030-01-01T00:00:00Z' }] },
    sleepy: { plan: 'gold', status: 'paused', apiKeys: [{ hash: paused.hash }] },
    later: { plan: 'gold', startingAt: '2031-01-01T00:00:00Z', apiKeys: [{ hash: future.hash.toUpperCase() }] },
    gone: { plan: 'gold', endingAt: '2029-01-01T00:00:00Z', apiKeys: [{ hash: ended.hash }] },
  };
  return createApiKeyPlan('gold', config, { apiId: 'orders', subscriptions, resolveSecret: () => '' });
}

describe('api-key plan', () => {
  afterEach(() => vi.useRealTimers());

  it('accepts a key from the X-Api-Key header or the api-key query parameter', async () => {
    vi.useFakeTimers({ now: Date.parse('2028-06-01T00:00:00Z') });
    const p = plan();
    const byHeader = request({ 'x-api-key': acme.key });
    expect(p.presents(byHeader)).toBe(true);
    expect(await p.authenticate(byHeader)).toEqual({ planKey: 'gold', planType: 'api-key', subscription: 'acme', rateKey: 'sub:acme' });
    expect(await p.authenticate(request({}, `api-key=${acme.key}`))).toMatchObject({ subscription: 'acme' });
  });

  it('uses the configured header and query parameter', async () => {
    const p = plan({ ...gold, header: 'X-Gateway-Key', queryParam: 'key' });
    expect(p.presents(request({ 'x-api-key': acme.key }))).toBe(false);
    expect(await p.authenticate(request({ 'x-gateway-key': acme.key }))).toMatchObject({ subscription: 'acme' });
    expect(await p.authenticate(request({}, `key=${acme.key}`))).toMatchObject({ subscription: 'acme' });
  });

  it('reports missing, wrong and empty keys with stable codes (401)', async () => {
    const p = plan();
    expect(p.presents(request())).toBe(false);
    expect(await rejection(p.authenticate(request()))).toMatchObject({ status: 401, code: 'API_KEY_MISSING' });
    expect(await rejection(p.authenticate(request({ 'x-api-key': newApiKey().key })))).toMatchObject({ status: 401, code: 'API_KEY_INVALID' });
    // A present but empty credential is still present: never a fallback to keyless.
    expect(p.presents(request({ 'x-api-key': '' }))).toBe(true);
    expect(await rejection(p.authenticate(request({ 'x-api-key': '' })))).toMatchObject({ code: 'API_KEY_INVALID' });
    expect(await rejection(p.authenticate(request({ 'x-api-key': 'x'.repeat(10_000) })))).toMatchObject({ code: 'API_KEY_INVALID' });
    // The hash itself is not a key.
    expect(await rejection(p.authenticate(request({ 'x-api-key': acme.hash })))).toMatchObject({ code: 'API_KEY_INVALID' });
  });

  it('refuses subscriptions that are not accepted or outside their window', async () => {
    vi.useFakeTimers({ now: Date.parse('2030-06-01T00:00:00Z') });
    const p = plan();
    expect(await rejection(p.authenticate(request({ 'x-api-key': paused.key })))).toMatchObject({ status: 401, code: 'SUBSCRIPTION_NOT_ACTIVE' });
    expect(await rejection(p.authenticate(request({ 'x-api-key': future.key })))).toMatchObject({ code: 'SUBSCRIPTION_NOT_ACTIVE' });
    expect(await rejection(p.authenticate(request({ 'x-api-key': ended.key })))).toMatchObject({ code: 'SUBSCRIPTION_NOT_ACTIVE' });
    vi.setSystemTime(Date.parse('2031-02-01T00:00:00Z'));
    expect(await p.authenticate(request({ 'x-api-key': future.key }))).toMatchObject({ subscription: 'later' });
  });

  it('honours a key\'s expireAt and makes the Caller expire with it', async () => {
    vi.useFakeTimers({ now: Date.parse('2029-12-31T23:00:00Z') });
    const p = plan();
    expect(await p.authenticate(request({ 'x-api-key': rotated.key }))).toMatchObject({
      subscription: 'acme',
      expiresAt: Date.parse('2030-01-01T00:00:00Z'),
    });
    vi.setSystemTime(Date.parse('2030-01-01T00:00:00Z'));
    expect(await rejection(p.authenticate(request({ 'x-api-key': rotated.key })))).toMatchObject({ code: 'API_KEY_INVALID' });
    expect(await p.authenticate(request({ 'x-api-key': acme.key }))).toMatchObject({ subscription: 'acme' });
  });

  it('error messages never echo the key', async () => {
    const wrong = newApiKey().key;
    const error = await plan().authenticate(request({ 'x-api-key': wrong })).then(() => undefined, (e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect(JSON.stringify(error)).not.toContain(wrong);
    expect(error!.message).not.toContain(wrong);
  });
});
