import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import type { Gateway } from '../../runtime/gateway.ts';
import { NO_CONTEXT_PATH, NO_ENTRYPOINT } from '../../core/errors.ts';
import { GatewayServer } from '../../runtime/http/server.ts';
import { RouterSwitch } from '../../runtime/routing/router.ts';
import { makeBundle } from '../support/bundles.ts';
import { connect, gatewayWith, HandshakeRefused, within, wsUrl } from '../support/harness.ts';

/** Sends raw bytes and returns the raw answer (until the server closes or 2 s pass). */
function raw(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
    setTimeout(() => socket.destroy(), 2000);
  });
}

let gateway: Gateway;

beforeAll(async () => {
  gateway = await gatewayWith(makeBundle({
    a: {},
    'ws-only': { definition: { entrypoints: [{ type: 'websocket' }] } },
    nested: { definition: { contextPaths: ['/deep//nested'] } },
    stopped: { definition: { state: 'stopped' } },
    browser: { definition: { cors: { allowOrigins: ['http://allowed.test'], exposeHeaders: ['X-Trace'] } } },
  }));
});
afterAll(() => gateway.close());

describe('routing', () => {
  it('answers an unknown path 404 with the exact text', async () => {
    const res = await fetch(`${gateway.url}/nope`);
    expect(res.status).toBe(404);
    expect(await res.text()).toBe(NO_CONTEXT_PATH);
  });

  it('answers a stopped API 404, for HTTP and for a WebSocket handshake without upgrading', async () => {
    const res = await fetch(`${gateway.url}/stopped`);
    expect(res.status).toBe(404);
    expect(await res.text()).toBe(NO_CONTEXT_PATH);
    const client = connect(wsUrl(gateway, '/stopped'));
    const refused = await client.opened.then(() => null, (error) => error);
    expect(refused).toBeInstanceOf(HandshakeRefused);
    expect(refused.status).toBe(404);
    expect(refused.body).toBe(NO_CONTEXT_PATH);
  });

  it('answers a handshake on an unknown path with a plain HTTP 404 status line', async () => {
    const answer = await raw(gateway.port, 'GET /nope HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    expect(answer.startsWith('HTTP/1.1 404 Not Found\r\n')).toBe(true);
    expect(answer.endsWith(`\r\n\r\n${NO_CONTEXT_PATH}`)).toBe(true);
  });

  it('matches normalised context paths and sub-paths', async () => {
    for (const path of ['/a', '/a/', '//a//', '/a/sub/path', '/deep/nested/x']) {
      const res = await fetch(`${gateway.url}${path}?limit=1`);
      expect(res.status, path).toBe(200);
    }
    expect((await fetch(`${gateway.url}/ab`)).status).toBe(404);
  });

  it('answers 404 No entrypoint when no entrypoint of the API matches', async () => {
    const get = await fetch(`${gateway.url}/ws-only`);
    expect(get.status).toBe(404);
    expect(await get.text()).toBe(NO_ENTRYPOINT);
    const post = await fetch(`${gateway.url}/a`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(404);
    expect(await post.text()).toBe(NO_ENTRYPOINT);
  });

  it('prefers the WebSocket upgrade over http-get on the same path', async () => {
    const client = connect(wsUrl(gateway, '/a'));
    await within(client.opened, 2000, 'the handshake');
    client.ws.close();
  });

  it('answers malformed requests with 400/431 and keeps serving', async () => {
    expect(await raw(gateway.port, 'GARBAGE\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
    expect(await raw(gateway.port, `GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: ${'x'.repeat(20_000)}\r\n\r\n`)).toMatch(/^HTTP\/1\.1 431/);
    // Absolute-form (clients configured for a proxy) is routed by its path; its host is ignored.
    expect(await raw(gateway.port, 'GET http://evil/a?limit=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAccept: application/json\r\n\r\n')).toMatch(/^HTTP\/1\.1 200 /);
    expect(await raw(gateway.port, 'GET http://evil HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toMatch(/^HTTP\/1\.1 404 /);
    const answers: Record<string, string> = {};
    for (const target of ['/%ZZ', '/a/%?limit=1', '/a?limit=1&x=%', '*', '/a/..%2f..%2f?limit=1', '/a;x', '/a/%00?limit=1']) {
      answers[target] = (await raw(gateway.port, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAccept: application/json\r\n\r\n`)).split('\r\n')[0]!;
    }
    expect(answers).toEqual({
      '/%ZZ': 'HTTP/1.1 404 Not Found',
      '/a/%?limit=1': 'HTTP/1.1 200 OK',
      '/a?limit=1&x=%': 'HTTP/1.1 200 OK',
      '*': 'HTTP/1.1 400 Bad Request',
      '/a/..%2f..%2f?limit=1': 'HTTP/1.1 200 OK',
      '/a;x': 'HTTP/1.1 404 Not Found',
      '/a/%00?limit=1': 'HTTP/1.1 200 OK',
    });
    // A client that resets in the middle of a handshake.
    await new Promise<void>((resolve) => {
      const socket = net.connect(gateway.port, '127.0.0.1', () => {
        socket.write('GET /a HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
        socket.resetAndDestroy();
        resolve();
      });
    });
    expect((await fetch(`${gateway.url}/a?limit=1`)).status).toBe(200);
  });

  it('answers a client that sends its headers too slowly 408 Request Timeout, and closes it', async () => {
    const server = new GatewayServer(new RouterSwitch(), { host: '127.0.0.1', port: 0, headersTimeoutMs: 300 });
    const { port } = await server.listen();
    try {
      const started = Date.now();
      expect(await raw(port, 'GET /a HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n')).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
      expect(Date.now() - started).toBeLessThan(1900);
    } finally {
      server.destroyAll();
      await server.stopAccepting();
    }
  });
});

describe('CORS', () => {
  it('answers a preflight from an allowed origin', async () => {
    const res = await fetch(`${gateway.url}/browser`, {
      method: 'OPTIONS',
      headers: { Origin: 'http://allowed.test', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'x-api-key' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('http://allowed.test');
    expect(res.headers.get('access-control-allow-methods')).toBe('GET, POST, OPTIONS');
    expect(res.headers.get('access-control-allow-headers')).toContain('X-Api-Key');
    expect(res.headers.get('access-control-max-age')).toBe('600');
  });

  it('adds Access-Control-Allow-* to long-poll responses and errors of allowed origins', async () => {
    const res = await fetch(`${gateway.url}/browser?limit=1`, { headers: { Origin: 'http://allowed.test' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('http://allowed.test');
    expect(res.headers.get('access-control-expose-headers')).toBe('X-Trace');
    expect(res.headers.get('vary')).toBe('Origin');
    const bad = await fetch(`${gateway.url}/browser`, { headers: { Origin: 'http://allowed.test', Accept: 'image/png' } });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('access-control-allow-origin')).toBe('http://allowed.test');
  });

  it('refuses a disallowed origin with 403, over HTTP, preflight and WebSocket', async () => {
    const res = await fetch(`${gateway.url}/browser`, { headers: { Origin: 'http://evil.test' } });
    expect(res.status).toBe(403);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await fetch(`${gateway.url}/browser`, { method: 'OPTIONS', headers: { Origin: 'http://evil.test', 'Access-Control-Request-Method': 'GET' } });
    expect(preflight.status).toBe(403);
    const client = connect(wsUrl(gateway, '/browser'), { origin: 'http://evil.test' });
    const refused = await client.opened.then(() => null, (error) => error);
    expect(refused?.status).toBe(403);
    const allowed = connect(wsUrl(gateway, '/browser'), { origin: 'http://allowed.test' });
    await within(allowed.opened, 2000, 'the allowed handshake');
    allowed.ws.close();
  });

  it('never refuses a request without Origin', async () => {
    expect((await fetch(`${gateway.url}/browser?limit=1`)).status).toBe(200);
    const client = connect(wsUrl(gateway, '/browser'));
    await within(client.opened, 2000, 'a handshake without Origin');
    client.ws.close();
  });

  it('adds no CORS header and checks nothing on an API without CORS settings', async () => {
    const res = await fetch(`${gateway.url}/a?limit=1`, { headers: { Origin: 'http://evil.test' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});
