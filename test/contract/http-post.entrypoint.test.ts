import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../runtime/gateway.ts';
import { gatewayWith } from '../support/harness.ts';
import { makeBundle } from '../support/bundles.ts';
import { built, mockBackend, numberedMockRegistry } from './numbered-mock.ts';
import { entrypointContract } from './entrypoint-suite.ts';
import { httpPostDriver } from './entrypoint-drivers.ts';

entrypointContract(httpPostDriver, mockBackend());

describe('http-post limits and headers', () => {
  let gateway: Gateway;
  const recorded = (kind: string) => [...built].reverse().find((b) => b.kind === kind)!.endpoint.recorded();
  beforeAll(async () => {
    gateway = await gatewayWith(makeBundle({
      small: { definition: { entrypoints: [{ type: 'http-post', maxBodyBytes: 1024, requestHeadersToMessage: true }], endpoints: [{ type: 'mock', messageContent: 'small' }] } },
      plain: { definition: { entrypoints: [{ type: 'http-post' }], endpoints: [{ type: 'mock', messageContent: 'plain' }] } },
    }), { registry: numberedMockRegistry() });
  });
  afterAll(() => gateway?.close());

  it('refuses a declared Content-Length over the limit with 413 without reading the body', async () => {
    const res = await fetch(`${gateway.url}/small/`, { method: 'POST', body: 'x'.repeat(1025) });
    expect(res.status).toBe(413);
    expect((await res.json()).code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('refuses a chunked body with 413 as soon as it passes the limit, while the client is still sending', async () => {
    const url = new URL(`${gateway.url}/small/`);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (res) => {
        resolve(res.statusCode ?? 0);
        res.resume();
        req.destroy();
      });
      req.on('error', (error) => reject(error));
      req.write(Buffer.alloc(2048, 0x61)); // over the limit; the request is never ended
    });
    expect(status).toBe(413);
    expect(recorded('small')).toHaveLength(0);
  });

  it('requestHeadersToMessage copies request headers except hop-by-hop and credentials', async () => {
    const res = await fetch(`${gateway.url}/small/`, {
      method: 'POST',
      body: 'order',
      headers: { 'x-order-id': '42', 'content-type': 'text/plain', authorization: 'Bearer secret', cookie: 'a=b', 'x-api-key': 'k' },
    });
    expect(res.status).toBe(202);
    const [message] = recorded('small');
    expect(message!.headers['x-order-id']).toBe('42');
    expect(message!.headers['content-type']).toBe('text/plain');
    for (const name of ['authorization', 'cookie', 'x-api-key', 'connection', 'host', 'content-length']) expect(message!.headers).not.toHaveProperty(name);
  });

  it('without requestHeadersToMessage only the content type travels', async () => {
    const res = await fetch(`${gateway.url}/plain/`, { method: 'POST', body: 'x', headers: { 'x-order-id': '42', 'content-type': 'text/plain' } });
    expect(res.status).toBe(202);
    expect(recorded('plain')[0]!.headers).toEqual({ 'content-type': 'text/plain' });
  });
});
