import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../runtime/gateway.ts';
import { makeBundle } from '../support/bundles.ts';
import { connect, gatewayWith, waitFor, within, wsUrl } from '../support/harness.ts';

let gateway: Gateway;
beforeAll(async () => {
  gateway = await gatewayWith(undefined, {
    adminRoutes: [{ method: 'GET', path: '/extra', handle: (_req, res, view) => void res.end(`extra ${view.routers.current?.bundleId ?? 'none'}`) }],
  });
});
afterAll(() => gateway.close());

describe('admin port', () => {
  it('answers /healthz always and /readyz 503 until a bundle is served, then its id', async () => {
    expect((await fetch(`${gateway.adminUrl}/healthz`)).status).toBe(200);
    const before = await fetch(`${gateway.adminUrl}/readyz`);
    expect(before.status).toBe(503);
    expect((await before.json()).ready).toBe(false);
    expect((await fetch(`${gateway.url}/a`)).status).toBe(503); // NOT_READY until a bundle is served (not-ready.test.ts)
    const bundle = makeBundle({ a: {}, off: { definition: { state: 'stopped' } } });
    await gateway.deploy(bundle);
    const after = await fetch(`${gateway.adminUrl}/readyz`);
    expect(after.status).toBe(200);
    expect(await after.json()).toMatchObject({ ready: true, bundleId: bundle.id });
    expect(await (await fetch(`${gateway.adminUrl}/extra`)).text()).toBe(`extra ${bundle.id}`);
    expect((await fetch(`${gateway.adminUrl}/nope`)).status).toBe(404);
  });

  it('reports each API with its state and open connections per entrypoint on /status', async () => {
    const client = connect(wsUrl(gateway, '/a'));
    await within(client.opened, 2000, 'the handshake');
    const poll = fetch(`${gateway.url}/a?limit=3`);
    await waitFor(() => gateway.routers.current!.exchanges.get('a')!.connections.size === 2, 2000, 'two connections');
    const status = await (await fetch(`${gateway.adminUrl}/status`)).json();
    expect(status).toMatchObject({ bundleId: gateway.routers.current!.bundleId, source: 'api' });
    expect(status.apis.a).toMatchObject({ state: 'started', contextPaths: ['/a/'], connections: { websocket: 1, 'http-get': 1 }, health: { healthy: true } });
    expect(status.apis.off).toMatchObject({ state: 'stopped', connections: {} });
    await poll;
    client.ws.close();
  });
});
