/**
 * The catalog on a running gateway, over real HTTP: the index and API pages, private APIs with a
 * key (header, its query parameter, the index's ?credential=), a bad key (the public set, no 401),
 * deprecated APIs, a swap updating the catalog, --catalog-path, and the headers every page carries.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Gateway } from '../../runtime/gateway.ts';
import { gatewayWith } from '../support/harness.ts';
import { catalogBundle, key, otherKey } from './fixtures.ts';
import { makeBundle } from '../support/bundles.ts';
import { SignJWT } from 'jose';

let gateway: Gateway;
beforeAll(async () => {
  gateway = await gatewayWith(catalogBundle(), { authFailureLimit: { failures: 3, windowSeconds: 60 } });
});
afterAll(() => gateway?.close());

/** The API ids on the index page (its cards' data-api). */
const listedIds = (body: string) => [...body.matchAll(/<article class="card api" data-api="([^"]+)"/g)].map((m) => m[1]);

async function get(path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${gateway.url}${path}`, { headers });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

describe('catalog over HTTP', () => {
  it('serves the index of public published and deprecated APIs, with the security headers', async () => {
    const { status, headers, body } = await get('/catalog');
    expect(status).toBe(200);
    expect(headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = headers.get('content-security-policy')!;
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)![1];
    expect(csp).toContain("default-src 'self'");
    expect(body).toContain(`<style nonce="${nonce}">`);
    expect(headers.get('referrer-policy')).toBe('no-referrer');
    expect(headers.get('cache-control')).toBe('no-store');
    expect(listedIds(body)).toEqual(['old-api', 'public-api']);
    expect((await get('/catalog/')).body).toContain('data-api="public-api"');
  });

  it('shows a deprecated API as such, linking its replacement', async () => {
    const { body } = await get('/catalog/old-api');
    expect(body).toContain('<span class="badge deprecated">deprecated</span>');
    expect(body).toContain('Use <a href="/catalog/public-api">Public API</a> instead.');
  });

  it('shows a private API to a caller with a key of its subscriptions: header, query parameter or ?credential=', async () => {
    for (const [path, headers] of [
      ['/catalog', { 'X-Api-Key': key.key }],
      [`/catalog?api-key=${encodeURIComponent(key.key)}`, {}],
      [`/catalog?credential=${encodeURIComponent(key.key)}`, {}],
    ] as const) {
      const { status, body } = await get(path, headers);
      expect(status, path).toBe(200);
      expect(listedIds(body), path).toEqual(['old-api', 'private-api', 'public-api']);
    }
    const page = await get(`/catalog/private-api?credential=${encodeURIComponent(key.key)}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<h1>Private API</h1>');
    expect(page.body).toContain(`href="/catalog?credential=${encodeURIComponent(key.key)}"`);
  });

  it('answers a bad key with the public set (no 401), and a private page without a good key with 404', async () => {
    const bad = await get('/catalog', { 'X-Api-Key': otherKey.key });
    expect(bad.status).toBe(200);
    expect(listedIds(bad.body)).toEqual(['old-api', 'public-api']);
    expect((await get('/catalog/private-api')).status).toBe(404);
    expect((await get('/catalog/private-api', { 'X-Api-Key': otherKey.key })).status).toBe(404);
    for (const id of ['draft-api', 'gone-api', 'stopped-api', 'nope']) expect((await get(`/catalog/${id}`)).status, id).toBe(404);
  });

  it('shows a private API to a caller with a JWT of one of its subscriptions (Authorization or ?credential=)', async () => {
    process.env.CATALOG_TEST_JWT_SECRET = 'catalog-test-secret-catalog-test-secret';
    const jwtGateway = await gatewayWith(makeBundle({
      partners: {
        definition: { name: 'Partners', lifecycle: 'published', visibility: 'private' },
        plans: { partners: { type: 'jwt', name: 'Partners', status: 'published', signature: 'HS256', secret: { env: 'CATALOG_TEST_JWT_SECRET' } } },
        subscriptions: { acme: { plan: 'partners', clientId: 'acme-app' } },
      },
    }));
    try {
      const token = (clientId: string) => new SignJWT({ azp: clientId }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m')
        .sign(new TextEncoder().encode(process.env.CATALOG_TEST_JWT_SECRET));
      const ids = async (init: { path?: string; headers?: Record<string, string> }) =>
        listedIds(await (await fetch(`${jwtGateway.url}${init.path ?? '/catalog'}`, { headers: init.headers ?? {} })).text());
      expect(await ids({})).toEqual([]);
      expect(await ids({ headers: { Authorization: `Bearer ${await token('acme-app')}` } })).toEqual(['partners']);
      expect(await ids({ path: `/catalog?credential=${await token('acme-app')}` })).toEqual(['partners']);
      expect(await ids({ headers: { Authorization: `Bearer ${await token('stranger')}` } })).toEqual([]);
    } finally {
      await jwtGateway.close();
      delete process.env.CATALOG_TEST_JWT_SECRET;
    }
  });

  it('counts refused credentials like the API does: once throttled, even a good key shows only the public set', async () => {
    const throttled = await gatewayWith(catalogBundle(), { authFailureLimit: { failures: 2, windowSeconds: 60 } });
    try {
      const ids = async (k: string) => listedIds(await (await fetch(`${throttled.url}/catalog?credential=${encodeURIComponent(k)}`)).text());
      expect(await ids(key.key)).toContain('private-api');
      await ids(otherKey.key);
      await ids(otherKey.key);
      expect(await ids(key.key)).not.toContain('private-api');
      // and the API itself refuses the address too
      expect((await fetch(`${throttled.url}/private-api?limit=1`, { headers: { 'X-Api-Key': key.key } })).status).toBe(429);
    } finally {
      await throttled.close();
    }
  });

  it('reflects the bundle serving now: a swap adds and removes APIs', async () => {
    const swapped = await gatewayWith(catalogBundle());
    try {
      expect(listedIds(await (await fetch(`${swapped.url}/catalog`)).text())).toEqual(['old-api', 'public-api']);
      await swapped.deploy(catalogBundle({ 'draft-api': { definition: { name: 'Draft API', lifecycle: 'published', visibility: 'public' } }, 'old-api': { definition: { name: 'Old API', lifecycle: 'archived', state: 'stopped' } } }));
      expect(listedIds(await (await fetch(`${swapped.url}/catalog`)).text())).toEqual(['draft-api', 'public-api']);
      expect((await fetch(`${swapped.url}/catalog/old-api`)).status).toBe(404);
    } finally {
      await swapped.close();
    }
  });

  it('answers GET and HEAD only', async () => {
    const res = await fetch(`${gateway.url}/catalog`, { method: 'POST', body: 'x' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
    const head = await fetch(`${gateway.url}/catalog`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('links and serves each shown API\'s AsyncAPI 3.0 document (core/asyncapi), and a given builder replaces it', async () => {
    const page = (await get('/catalog/public-api')).body;
    expect(page).toContain('<a href="/catalog/public-api/asyncapi.json">AsyncAPI document</a>');
    const res = await get('/catalog/public-api/asyncapi.json');
    expect(res.status).toBe(200);
    const document = JSON.parse(res.body) as { asyncapi: string; info: { title: string }; servers: Record<string, { host: string }> };
    expect(document.asyncapi).toBe('3.0.0');
    expect(document.info.title).toBe('Public API');
    expect(Object.values(document.servers).map((s) => s.host)).toContain(new URL(gateway.url).host);
    expect((await get('/catalog/private-api/asyncapi.json')).status).toBe(404);
    const hooked = await gatewayWith(catalogBundle(), { catalog: { path: '/catalog', asyncapi: (api, url) => ({ asyncapi: '3.0.0', info: { title: api.definition.name }, url }) } });
    try {
      const res = await fetch(`${hooked.url}/catalog/public-api/asyncapi.json`);
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(await res.json()).toEqual({ asyncapi: '3.0.0', info: { title: 'Public API' }, url: hooked.url });
    } finally {
      await hooked.close();
    }
  });
});

describe('--catalog-path', () => {
  it('moves the catalog, and "" turns it off (the path is then an ordinary unknown context path)', async () => {
    const moved = await gatewayWith(catalogBundle(), { catalog: { path: '/dev/apis/' } });
    const off = await gatewayWith(catalogBundle(), { catalog: { path: '' } });
    try {
      expect((await fetch(`${moved.url}/dev/apis`)).status).toBe(200);
      expect(await (await fetch(`${moved.url}/dev/apis/public-api`)).text()).toContain('<a href="/dev/apis">API catalog</a>');
      expect((await fetch(`${moved.url}/catalog`)).status).toBe(404);
      const res = await fetch(`${off.url}/catalog`);
      expect(res.status).toBe(404);
      expect(await res.text()).toContain('No context-path matches the request URI.');
    } finally {
      await moved.close();
      await off.close();
    }
  });

  it('is refused when it is not a path', async () => {
    await expect(gatewayWith(undefined, { catalog: { path: 'catalog' } })).rejects.toThrow(/--catalog-path/);
  });
});

describe('same-origin requests and CORS', () => {
  it('a page on the gateway itself may open a WebSocket to an API whose CORS lists other origins only', async () => {
    const cors = await gatewayWith(makeBundle({ qs: { definition: { cors: { allowOrigins: ['http://localhost:5173'] } } } }));
    try {
      const host = new URL(cors.url).host;
      const opened = (origin: string) => new Promise<number | 'open'>((resolve) => {
        const ws = new WebSocket(`${cors.url.replace('http', 'ws')}/qs`, { origin, headers: { host } });
        ws.on('open', () => {
          ws.close();
          resolve('open');
        });
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('error', () => undefined);
      });
      expect(await opened(cors.url)).toBe('open');
      expect(await opened('http://elsewhere.test')).toBe(403);
    } finally {
      await cors.close();
    }
  });
});
