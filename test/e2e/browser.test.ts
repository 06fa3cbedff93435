/**
 * A real browser (headless Chromium through playwright-core) on another origin reads the
 * quickstart with fetch and a WebSocket when the API's CORS settings allow that origin, and is
 * refused when they do not.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { compileFolder } from '../../compiler/index.ts';
import type { Gateway } from '../../runtime/gateway.ts';
import type { TelemetryEvent } from '../../runtime/metrics/telemetry.ts';
import { gatewayWith, waitFor } from '../support/harness.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** A tiny page server: its origin is what the gateway sees in Origin. */
async function pageServer(): Promise<{ server: http.Server; origin: string }> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end('<!doctype html><title>page</title><p>page on another origin</p>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const dir = mkdtempSync(join(tmpdir(), 'sluice-e2e-'));
const events: TelemetryEvent[] = [];
let allowed: Awaited<ReturnType<typeof pageServer>>;
let denied: Awaited<ReturnType<typeof pageServer>>;
let gateway: Gateway;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  allowed = await pageServer();
  denied = await pageServer();
  // The quickstart as shipped, its CORS pointed at the allowed page's origin.
  const apiDir = join(dir, 'apis', 'qs-message-api');
  cpSync('apis/qs-message-api', apiDir, { recursive: true });
  const api = JSON.parse(readFileSync(join(apiDir, 'api.json'), 'utf8'));
  api.cors = { allowOrigins: [allowed.origin] };
  writeFileSync(join(apiDir, 'api.json'), JSON.stringify(api, null, 2));
  const { bundle, diagnostics } = await compileFolder(join(dir, 'apis'));
  expect(diagnostics).toEqual([]);
  gateway = await gatewayWith(bundle);
  gateway.telemetry.on((event) => events.push(event));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await gateway?.close();
  allowed?.server.close();
  denied?.server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs in the page: a long-poll with fetch and the first WebSocket message (or how each failed). */
async function readFromPage(origin: string): Promise<{ fetch: unknown; websocket: unknown }> {
  const page = await browser.newPage();
  try {
    await page.goto(origin);
    return await page.evaluate(async (gatewayUrl) => {
      const viaFetch = await fetch(`${gatewayUrl}/qs-message-api?limit=2`)
        .then(async (res) => ({ status: res.status, body: await res.json() }))
        .catch((error: Error) => ({ error: error.name }));
      const viaWebSocket = await new Promise((resolve) => {
        const ws = new WebSocket(`${gatewayUrl.replace('http', 'ws')}/qs-message-api`);
        ws.onmessage = (event) => {
          resolve({ message: event.data });
          ws.close(1000);
        };
        ws.onclose = (event) => resolve({ closed: event.code });
      });
      return { fetch: viaFetch, websocket: viaWebSocket };
    }, gateway.url);
  } finally {
    await page.close();
  }
}

describe('browser on another origin', () => {
  it('reads the quickstart with fetch and a WebSocket when CORS allows the origin', async () => {
    const result = await readFromPage(allowed.origin);
    expect(result.fetch).toEqual({ status: 200, body: { items: [{ id: '0', content: 'mock message' }, { id: '1', content: 'mock message' }], pagination: { nextCursor: '1' } } });
    expect(result.websocket).toEqual({ message: 'mock message' });
  }, 30_000);

  it('is refused (403; fetch fails, the WebSocket never opens) when CORS does not allow the origin', async () => {
    const before = events.length;
    const result = await readFromPage(denied.origin);
    expect(result.fetch).toEqual({ error: 'TypeError' });
    expect(result.websocket).toEqual({ closed: 1006 });
    await waitFor(() => events.slice(before).filter((e) => e.kind === 'request' && e.status === 403).length >= 2, 5000, 'two 403 refusals');
    const refused = events.slice(before).filter((e) => e.kind === 'request' && e.status === 403) as Extract<TelemetryEvent, { kind: 'request' }>[];
    expect(refused.map((e) => e.api)).toEqual(['qs-message-api', 'qs-message-api']);
  }, 30_000);
});
