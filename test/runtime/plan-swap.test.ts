/**
 * Deploys that change only an API's plans or subscriptions (onboarding an application, revoking
 * one, rotating a key): the API's open connections stay, except those of the callers whose plan
 * or subscription changed, which close 1012 and meet the new rules when they reconnect.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../runtime/gateway.ts';
import type { Api, Plan, Subscription } from '../../schemas/types.ts';
import { makeBundle, type ApiSpec } from '../support/bundles.ts';
import { connect, gatewayWith, HandshakeRefused, waitFor, within, wsUrl } from '../support/harness.ts';
import { newApiKey } from '../plans/fixtures.ts';
import { holdableKeyless } from './held-plan.ts';

const acme = newApiKey();
const beta = newApiKey();
const gamma = newApiKey();
const definition: Partial<Api> = { endpoints: [{ type: 'mock', messageInterval: 20 }] };
const gold: Record<string, Plan> = { gold: { type: 'api-key', name: 'Gold', status: 'published' } };
const open: Record<string, Plan> = { open: { type: 'keyless', name: 'Open', status: 'published' } };
const sub = (hash: string, extra: Partial<Subscription> = {}): Subscription => ({ plan: 'gold', apiKeys: [{ hash }], ...extra });

function api(subscriptions: Record<string, Subscription>, plans: Record<string, Plan> = gold, extra: Partial<Api> = {}): ApiSpec {
  return { definition: { ...definition, ...extra }, plans, subscriptions };
}

const keyless = holdableKeyless();
let gateway: Gateway;
beforeEach(async () => {
  gateway = await gatewayWith(makeBundle({ p: api({ acme: sub(acme.hash), beta: sub(beta.hash) }), k: api({}, open) }), { registry: keyless.registry });
});
afterEach(() => gateway.close());

async function subscribed(path: string, key?: string) {
  const client = connect(wsUrl(gateway, path), key ? { headers: { 'X-Api-Key': key } } : {});
  await within(client.opened, 2000, `the handshake on ${path}`);
  await waitFor(() => client.messages.length > 0, 2000, `a first message on ${path}`);
  return client;
}

async function stillReceiving(client: Awaited<ReturnType<typeof subscribed>>, what: string) {
  const count = client.messages.length;
  await waitFor(() => client.messages.length > count + 2, 2000, `${what} to keep receiving`);
  expect(client.ws.readyState).toBe(client.ws.OPEN);
}

describe('hot swap of plans and subscriptions', () => {
  it('keeps every connection of an API when a subscription is added, and the new one is served', async () => {
    const a = await subscribed('/p', acme.key);
    const b = await subscribed('/p', beta.key);
    const exchange = gateway.routers.current!.exchanges.get('p');
    const result = await gateway.deploy(makeBundle({ p: api({ acme: sub(acme.hash), beta: sub(beta.hash), gamma: sub(gamma.hash) }), k: api({}, open) }));
    expect(result).toMatchObject({ deployed: true, changed: ['p'], kept: ['k'] });
    expect(gateway.routers.current!.exchanges.get('p')).toBe(exchange);
    await stillReceiving(a, 'acme');
    await stillReceiving(b, 'beta');
    const g = await subscribed('/p', gamma.key);
    for (const client of [a, b, g]) client.ws.close();
  });

  it('closes only the connections whose subscription changed (1012); on reconnect they meet the new rules', async () => {
    const a = await subscribed('/p', acme.key);
    const b = await subscribed('/p', beta.key);
    await gateway.deploy(makeBundle({ p: api({ acme: sub(acme.hash), beta: sub(beta.hash, { status: 'paused' }) }), k: api({}, open) }));
    expect((await within(b.closed, 2000, 'beta to close')).code).toBe(1012);
    await stillReceiving(a, 'acme');
    const again = await connect(wsUrl(gateway, '/p'), { headers: { 'X-Api-Key': beta.key } }).opened.then(() => null, (e) => e);
    expect(again).toBeInstanceOf(HandshakeRefused);
    expect(again.status).toBe(401);
    expect(JSON.parse(again.body).code).toBe('SUBSCRIPTION_NOT_ACTIVE');
    a.ws.close();
  });

  it('closes the connections of a plan that changed, and all of them when the API itself changed', async () => {
    const k = await subscribed('/k');
    const a = await subscribed('/p', acme.key);
    await gateway.deploy(makeBundle({ p: api({ acme: sub(acme.hash), beta: sub(beta.hash) }), k: api({}, { open: { ...open.open!, rateLimit: { limit: 1000 } } }) }));
    expect((await within(k.closed, 2000, 'the keyless client to close')).code).toBe(1012);
    await stillReceiving(a, 'acme');
    await gateway.deploy(makeBundle({ p: api({ acme: sub(acme.hash), beta: sub(beta.hash) }, gold, { name: 'p v2' }), k: api({}, open) }));
    expect((await within(a.closed, 2000, 'acme to close')).code).toBe(1012);
  });

  it('keeps the old plans serving when the new ones fail to build', async () => {
    const a = await subscribed('/p', acme.key);
    const jwt: Record<string, Plan> = { ...gold, partners: { type: 'jwt', name: 'Partners', status: 'published', signature: 'HS256', secret: { env: 'SLUICE_TEST_PLAN_SWAP_UNSET' } } };
    const result = await gateway.deploy(makeBundle({ p: api({ acme: sub(acme.hash), beta: sub(beta.hash) }, jwt), k: api({}, open) }));
    expect(result).toMatchObject({ deployed: true, failed: ['p'] });
    await stillReceiving(a, 'acme');
    expect((await fetch(`${gateway.url}/p?limit=1`, { headers: { 'X-Api-Key': beta.key } })).status).toBe(200);
    a.ws.close();
  });

  it('closes a connection authenticated under the old plans when the swap lands while it was being admitted', async () => {
    const held = keyless.hold();
    try {
      await gateway.deploy(makeBundle({ p: api({ acme: sub(acme.hash) }), k: api({}, { open: { ...open.open!, description: 'held' } }) }));
      const late = connect(wsUrl(gateway, '/k'));
      await waitFor(() => held.waiting() === 1, 2000, 'the handshake to wait in authentication');
      await gateway.deploy(makeBundle({ p: api({ acme: sub(acme.hash) }), k: api({}, { open: { ...open.open!, description: 'held', rateLimit: { limit: 1000 } } }) }));
      held.release();
      expect((await within(late.closed, 2000, 'the late client to close')).code).toBe(1012);
    } finally {
      held.restore();
      held.release();
    }
  });
});
