/**
 * Before its first bundle a gateway refuses every request with 503 NOT_READY and Retry-After
 * (WebSocket handshakes with an HTTP 503, no upgrade), not 404; once a bundle is served it routes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../runtime/gateway.ts';
import { connect, gatewayWith, HandshakeRefused, within, wsUrl } from '../support/harness.ts';
import { keyless, makeBundle } from '../support/bundles.ts';

let gateway: Gateway | undefined;
afterEach(async () => {
  await gateway?.close();
  gateway = undefined;
});

describe('gateway before its first bundle', () => {
  it('answers 503 NOT_READY with Retry-After, refuses handshakes with 503, then routes', async () => {
    gateway = await gatewayWith(undefined);
    for (const path of ['/', '/sensors', '/anything/else?x=1']) {
      const res = await fetch(`${gateway.url}${path}`);
      expect(res.status, path).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(await res.json()).toMatchObject({ code: 'NOT_READY' });
    }
    const client = connect(wsUrl(gateway, '/sensors'));
    const refused = await within(client.opened.then(() => null, (error: unknown) => error), 3_000, 'the handshake refusal');
    expect(refused).toBeInstanceOf(HandshakeRefused);
    expect((refused as HandshakeRefused).status).toBe(503);

    const deployed = await gateway.deploy(
      makeBundle({ sensors: { definition: { contextPaths: ['/sensors'], entrypoints: [{ type: 'http-post' }], endpoints: [{ type: 'mock' }] }, plans: keyless } }),
    );
    expect(deployed.deployed).toBe(true);
    expect((await fetch(`${gateway.url}/sensors`, { method: 'POST', body: 'hello' })).status).toBe(202);
    expect((await fetch(`${gateway.url}/nowhere`)).status).toBe(404);
  });
});
