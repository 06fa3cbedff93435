import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../runtime/gateway.ts';
import { registryWith } from '../support/registry.ts';
import { NO_CONTEXT_PATH } from '../../core/errors.ts';
import { makeBundle, type ApiSpec } from '../support/bundles.ts';
import { countingFactory, kafkaConfig } from './counting-endpoint.ts';
import { connect, gatewayWith, HandshakeRefused, waitFor, within, wsUrl } from '../support/harness.ts';
import { holdableKeyless } from './held-plan.ts';

const counting = countingFactory();
// An endpoint whose factory throws, like one needing a secret that is not set.
const mqttFactory = () => {
  throw new Error('secret env:MISSING cannot be resolved');
};
const mqttConfig = { type: 'mqtt', serverHost: '127.0.0.1', consumer: { topic: 't' } } as never;
// Keyless authentication can be held (keyless.hold()) to land a deploy while a handshake is admitted.
const keyless = holdableKeyless(registryWith({ kafka: counting.factory, mqtt: mqttFactory }));
const registry = keyless.registry;

const A: ApiSpec = { definition: { endpoints: [{ type: 'mock', messageInterval: 20 }] } };
const B: ApiSpec = { definition: { endpoints: [{ type: 'mock', messageInterval: 20 }] } };
const B2: ApiSpec = { definition: { endpoints: [{ type: 'mock', messageInterval: 30 }] } };

let gateway: Gateway;
beforeEach(async () => {
  gateway = await gatewayWith(makeBundle({ a: A, b: B }), { registry });
});
afterEach(() => gateway.close());

async function subscribed(path: string) {
  const client = connect(wsUrl(gateway, path));
  await within(client.opened, 2000, `the handshake on ${path}`);
  await waitFor(() => client.messages.length > 0, 2000, `a first message on ${path}`);
  return client;
}

describe('hot swap', () => {
  it('keeps a WebSocket to API A open across a deploy that changes only API B', async () => {
    const a = await subscribed('/a');
    const b = await subscribed('/b');
    const exchangeA = gateway.routers.current!.exchanges.get('a');
    const result = await gateway.deploy(makeBundle({ a: A, b: B2 }));
    expect(result).toMatchObject({ deployed: true, kept: ['a'], changed: ['b'], removed: [], added: [] });
    expect((await within(b.closed, 2000, 'B to close')).code).toBe(1012);
    expect(gateway.routers.current!.exchanges.get('a')).toBe(exchangeA);
    const count = a.messages.length;
    await waitFor(() => a.messages.length > count + 2, 2000, 'A to keep receiving');
    expect(a.ws.readyState).toBe(a.ws.OPEN);
    a.ws.close();
  });

  it('closes a WebSocket to API A with 1012 when A changes, and new clients get the new A', async () => {
    const a = await subscribed('/a');
    await gateway.deploy(makeBundle({ a: { definition: { endpoints: [{ type: 'mock', messageInterval: 20, messageContent: 'v2' }] } }, b: B }));
    const closed = await within(a.closed, 2000, 'A to close');
    expect(closed).toEqual({ code: 1012, reason: 'The API was redeployed; reconnect.' });
    const again = await subscribed('/a');
    expect(again.texts()[0]).toBe('v2');
    again.ws.close();
  });

  it('ends a long-poll of a changed API early with what it collected', async () => {
    const started = Date.now();
    const poll = fetch(`${gateway.url}/a?limit=500`, { headers: { Accept: 'application/json' } }).then((r) => r.json());
    await waitFor(() => gateway.routers.current!.exchanges.get('a')!.connections.size === 1, 2000, 'the poll');
    await new Promise((resolve) => setTimeout(resolve, 100));
    await gateway.deploy(makeBundle({ a: { definition: { endpoints: [{ type: 'mock', messageInterval: 25 }] } }, b: B }));
    const body = await poll;
    expect(body.items.length).toBeGreaterThan(0);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('answers 404 for a stopped or removed API and closes its connections', async () => {
    const a = await subscribed('/a');
    const b = await subscribed('/b');
    const result = await gateway.deploy(makeBundle({ a: { definition: { ...A.definition, state: 'stopped' } } }));
    expect(result).toMatchObject({ deployed: true, removed: ['a', 'b'] });
    expect((await within(a.closed, 2000, 'A to close')).code).toBe(1012);
    expect((await within(b.closed, 2000, 'B to close')).code).toBe(1012);
    for (const path of ['/a', '/b']) {
      const res = await fetch(`${gateway.url}${path}`);
      expect(res.status).toBe(404);
      expect(await res.text()).toBe(NO_CONTEXT_PATH);
      const refused = await connect(wsUrl(gateway, path)).opened.then(() => null, (e) => e);
      expect(refused).toBeInstanceOf(HandshakeRefused);
      expect(refused.status).toBe(404);
    }
  });

  it('keeps the last good bundle serving when a bundle is broken', async () => {
    const a = await subscribed('/a');
    const servedId = gateway.routers.current!.bundleId;
    const broken = { ...makeBundle({ a: A }), apis: { a: { id: 'a', definition: { name: 'a' }, plans: {}, subscriptions: {} } } };
    expect((await gateway.deploy(broken)).deployed).toBe(false);
    expect((await gateway.deploy('not a bundle')).deployed).toBe(false);
    const tampered = { ...makeBundle({ a: A }), id: 'f'.repeat(64) };
    expect((await gateway.deploy(tampered)).error).toMatch(/does not match its content/);
    expect(gateway.routers.current!.bundleId).toBe(servedId);
    expect(a.ws.readyState).toBe(a.ws.OPEN);
    expect((await fetch(`${gateway.url}/b?limit=1`)).status).toBe(200);
    const ready = await (await fetch(`${gateway.adminUrl}/readyz`)).json();
    expect(ready.bundleId).toBe(servedId);
    a.ws.close();
  });

  it('does nothing for an unchanged bundle id', async () => {
    const a = await subscribed('/a');
    const router = gateway.routers.current;
    const same = makeBundle({ a: A, b: B });
    expect(same.id).toBe(router!.bundleId);
    expect(await gateway.deploy(same)).toMatchObject({ deployed: false, bundleId: same.id });
    expect(gateway.routers.current).toBe(router);
    expect(a.ws.readyState).toBe(a.ws.OPEN);
    a.ws.close();
  });

  it('warms new endpoints before the flip and stops dropped ones exactly once', async () => {
    await gateway.deploy(makeBundle({ a: A, k: { definition: { endpoints: [kafkaConfig as never] } } }));
    const first = counting.built.at(-1)!;
    expect(first.startCalls).toBe(1);
    await gateway.deploy(makeBundle({ a: A, k: { definition: { name: 'k v2', endpoints: [kafkaConfig as never] } } }));
    const second = counting.built.at(-1)!;
    expect(second).not.toBe(first);
    expect(second.startCalls).toBe(1);
    expect(first.stopCalls).toBe(1);
    await gateway.deploy(makeBundle({ a: A }));
    await gateway.deploy(makeBundle({ a: A, b: B }));
    expect(first.stopCalls).toBe(1);
    expect(second.stopCalls).toBe(1);
  });

  it('keeps the last good version of one API that fails to build, and serves the others', async () => {
    const a = await subscribed('/a');
    const result = await gateway.deploy(makeBundle({ a: { definition: { endpoints: [mqttConfig] } }, c: {}, d: { definition: { endpoints: [mqttConfig] } } }));
    expect(result).toMatchObject({ deployed: true, failed: ['a', 'd'], added: ['c'], removed: ['b'] });
    expect(a.ws.readyState).toBe(a.ws.OPEN);
    expect((await fetch(`${gateway.url}/a?limit=1`)).status).toBe(200);
    expect((await fetch(`${gateway.url}/c?limit=1`)).status).toBe(200);
    const d = await fetch(`${gateway.url}/d`);
    expect(d.status).toBe(503);
    expect((await d.json()).code).toBe('API_UNAVAILABLE');
    const status = await (await fetch(`${gateway.adminUrl}/status`)).json();
    expect(status.apis.d).toMatchObject({ state: 'failed', error: 'secret env:MISSING cannot be resolved' });
    a.ws.close();
  });

  it('closes (1012) a WebSocket whose handshake was admitted while its API was being replaced', async () => {
    const held = keyless.hold();
    try {
      await gateway.deploy(makeBundle({ a: { definition: { ...A.definition, name: 'a held' } }, b: B }));
      const late = connect(wsUrl(gateway, '/a'));
      await waitFor(() => held.waiting() === 1, 2000, 'the handshake to wait in authentication');
      await gateway.deploy(makeBundle({ a: { definition: { ...A.definition, name: 'a v3' } }, b: B }));
      held.release();
      expect((await within(late.closed, 2000, 'the late client to close')).code).toBe(1012);
    } finally {
      held.restore();
      held.release();
    }
  });

  it('closes within its grace even while a handshake is still being admitted', async () => {
    const held = keyless.hold();
    try {
      await gateway.deploy(makeBundle({ a: { definition: { ...A.definition, name: 'a held' } }, b: B }));
      const late = connect(wsUrl(gateway, '/a'));
      await waitFor(() => held.waiting() === 1, 2000, 'the handshake to wait in authentication');
      const started = Date.now();
      await within(gateway.close(), 6000, 'the gateway to close');
      expect(Date.now() - started).toBeLessThan(5000);
      await within(late.closed, 2000, 'the pending handshake to be cut');
    } finally {
      held.restore();
      held.release();
    }
  });

  it('refuses to build an API whose CORS reflects any origin with credentials (a bundle not made by the compiler)', async () => {
    const result = await gateway.deploy(makeBundle({ a: A, b: B, c: { definition: { cors: { allowOrigins: ['*'], allowCredentials: true } } } }));
    expect(result).toMatchObject({ deployed: true, failed: ['c'] });
    const res = await fetch(`${gateway.url}/c?limit=1`, { headers: { Origin: 'https://evil.example' } });
    expect(res.status).toBe(503);
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
  });
});
