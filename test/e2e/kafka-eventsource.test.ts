/**
 * A browser's own EventSource (headless Chromium) on another origin, CORS allowed, reads Kafka
 * messages produced with kcat; when the stream ends (the API is redeployed) it reconnects by
 * itself with Last-Event-ID and gets exactly the messages produced while it was away.
 */
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Gateway } from '../../runtime/gateway.ts';
import { gatewayWith } from '../support/harness.ts';
import { makeBundle } from '../support/bundles.ts';
import { kafkaBootstrap } from '../support/brokers/brokers.ts';
import { kcatProduce } from '../brokers-e2e/clients.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const topic = `e2e-browser-${randomUUID().slice(0, 6)}`;

let server: http.Server;
let origin: string;
let gateway: Gateway;
let browser: Browser;
let bootstrap: string;

const bundle = (heartbeatIntervalInMs: number) => makeBundle({
  orders: {
    definition: {
      cors: { allowOrigins: [origin] },
      entrypoints: [{ type: 'sse', heartbeatIntervalInMs, retryMs: 2000 }],
      endpoints: [{ type: 'kafka', bootstrapServers: [bootstrap], consumer: { topics: [topic] } }],
    } as never,
  },
});

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  bootstrap = await kafkaBootstrap();
  server = http.createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>page</title>'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  gateway = await gatewayWith(bundle(5000));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await gateway?.close();
  server?.close();
});

interface PageState {
  messages: { id: string; data: string }[];
  errors: number;
  opens: number;
}

const state = (page: Page) => page.evaluate(() => (window as unknown as { sse: PageState }).sse);

async function until(page: Page, test: (s: PageState) => boolean, ms: number, what: string): Promise<PageState> {
  const deadline = Date.now() + ms;
  for (;;) {
    const s = await state(page);
    if (test(s)) return s;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

it('a browser EventSource on another origin receives Kafka messages and resumes with Last-Event-ID after a reconnect', { timeout: 90_000 }, async () => {
  const page = await browser.newPage();
  try {
    await page.goto(origin);
    await page.evaluate((url) => {
      const sse: PageState = { messages: [], errors: 0, opens: 0 };
      (window as unknown as { sse: PageState }).sse = sse;
      const es = new EventSource(url);
      es.onopen = () => sse.opens++;
      es.onerror = () => sse.errors++;
      es.onmessage = (event) => sse.messages.push({ id: event.lastEventId, data: event.data });
    }, `${gateway.url}/orders/`);

    for (let i = 0; (await state(page)).messages.length === 0; i++) {
      if (i > 40) throw new Error(`the page never received a warm-up message: ${JSON.stringify(await state(page))}`);
      await kcatProduce(bootstrap, topic, [`warmup-${i}`]);
      await until(page, (s) => s.messages.length > 0, 500, 'warm-up').catch(() => {});
    }
    await kcatProduce(bootstrap, topic, ['a-1', 'a-2', 'a-3']);
    const before = await until(page, (s) => s.messages.some((m) => m.data === 'a-3'), 15_000, 'a-3');
    expect(before.messages.filter((m) => !m.data.startsWith('warmup-')).map((m) => m.data)).toEqual(['a-1', 'a-2', 'a-3']);

    // A deploy that changes the API ends the stream; EventSource waits `retry` (2 s) and reconnects.
    const result = await gateway.deploy(bundle(6000));
    expect(result.deployed).toBe(true);
    await until(page, (s) => s.errors > 0, 10_000, 'the stream to end');
    await kcatProduce(bootstrap, topic, ['b-1', 'b-2', 'b-3']); // produced while the browser is away
    const after = await until(page, (s) => s.messages.some((m) => m.data === 'b-3'), 20_000, 'b-3 after the reconnect');
    expect(after.opens).toBeGreaterThanOrEqual(2);
    const real = after.messages.map((m) => m.data).filter((d) => !d.startsWith('warmup-'));
    expect(real).toEqual(['a-1', 'a-2', 'a-3', 'b-1', 'b-2', 'b-3']);
  } finally {
    await page.close();
  }
});
