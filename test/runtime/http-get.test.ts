import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { Gateway } from '../../runtime/gateway.ts';
import { registryWith } from '../support/registry.ts';
import { negotiate } from '../../runtime/entrypoints/http-get.ts';
import { makeBundle } from '../support/bundles.ts';
import { countingFactory, kafkaConfig } from './counting-endpoint.ts';
import { gatewayWith, waitFor } from '../support/harness.ts';

const counting = countingFactory();
const registry = registryWith({ kafka: counting.factory });

let gateway: Gateway;

beforeAll(async () => {
  gateway = await gatewayWith(makeBundle({
    fast: { definition: { entrypoints: [{ type: 'http-get', messagesLimitCount: 5, messagesLimitDurationMs: 2000 }], endpoints: [{ type: 'mock', messageInterval: 20 }] } },
    slow: { definition: { entrypoints: [{ type: 'http-get', messagesLimitDurationMs: 300 }], endpoints: [{ type: 'mock', messageInterval: 1000 }] } },
    rich: {
      definition: {
        entrypoints: [{ type: 'http-get', messagesLimitCount: 2, headersInPayload: true, metadataInPayload: true }],
        endpoints: [{ type: 'mock', messageInterval: 10, messageContent: 'a <b> & "c"', headers: { 'x-kind': 'demo' }, metadata: { source: 'mock', n: 1 } }],
      },
    },
    broker: { definition: { entrypoints: [{ type: 'http-get' }], endpoints: [kafkaConfig as never] } },
    bounded: {
      definition: {
        entrypoints: [{ type: 'http-get', messagesLimitDurationMs: 4000 }],
        endpoints: [{ type: 'mock', messageInterval: 10, messageContent: 'x'.repeat(600) }],
        fanout: { maxQueuedBytes: 1024 },
      },
    },
  }), { registry });
});
afterAll(() => gateway.close());

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${gateway.url}${path}`, { headers });

describe('http-get', () => {
  it('stops collecting once the items hold fanout.maxQueuedBytes content bytes and answers with them', async () => {
    const started = Date.now();
    const res = await get('/bounded', { Accept: 'application/json' });
    expect(res.status).toBe(200);
    const body = await res.json();
    // 600 + 600 >= 1024: two items, long before the 500-message count or the 4 s duration.
    expect(body.items.map((i: { id: string }) => i.id)).toEqual(['0', '1']);
    expect(body.items[1].content).toHaveLength(600);
    expect(body.pagination).toEqual({ nextCursor: '1' });
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('ends at messagesLimitCount, with ids in order and the next cursor', async () => {
    const res = await get('/fast', { Accept: 'application/json' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const body = await res.json();
    expect(body.items.map((i: { id: string }) => i.id)).toEqual(['0', '1', '2', '3', '4']);
    expect(body.items[0]).toEqual({ id: '0', content: 'mock message' });
    expect(body.pagination).toEqual({ nextCursor: '4' });
  });

  it('ends at messagesLimitDurationMs with what arrived (none here)', async () => {
    const started = Date.now();
    const res = await get('/slow', { Accept: 'application/json' });
    expect(await res.json()).toEqual({ items: [], pagination: {} });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('lets query limit lower the count but never raise it', async () => {
    expect((await (await get('/fast?limit=2', { Accept: '*/*' })).json()).items).toHaveLength(2);
    expect((await (await get('/fast?limit=50', { Accept: '*/*' })).json()).items).toHaveLength(5);
    for (const bad of ['0', '-1', 'x', '1.5']) expect((await get(`/fast?limit=${bad}`)).status, bad).toBe(400);
  });

  it('resumes after the cursor', async () => {
    const body = await (await get('/fast?cursor=7&limit=3', { Accept: 'application/json' })).json();
    expect(body.items.map((i: { id: string }) => i.id)).toEqual(['8', '9', '10']);
    expect(body.pagination.nextCursor).toBe('10');
    const bad = await get('/fast?cursor=abc', { Accept: 'application/json' });
    expect(bad.status).toBe(400);
    expect((await bad.json()).code).toBe('INVALID_CURSOR');
  });

  it('puts headers and metadata in the payload when configured, in JSON, XML and text', async () => {
    const json = await (await get('/rich', { Accept: 'application/json' })).json();
    expect(json.items[0]).toEqual({ id: '0', content: 'a <b> & "c"', headers: { 'x-kind': 'demo' }, metadata: { source: 'mock', n: 1 } });
    const xml = await get('/rich', { Accept: 'application/xml' });
    expect(xml.headers.get('content-type')).toBe('application/xml; charset=utf-8');
    const xmlText = await xml.text();
    expect(xmlText).toContain('<item><id>0</id><content>a &lt;b&gt; &amp; &quot;c&quot;</content><headers><header name="x-kind">demo</header></headers>');
    expect(xmlText).toContain('<pagination><nextCursor>1</nextCursor></pagination></response>');
    const text = await (await get('/rich', { Accept: 'text/plain' })).text();
    expect(text).toBe('items:\nitem:\nid: 0\ncontent: a <b> & "c"\nheaders: {"x-kind":"demo"}\nmetadata: {"source":"mock","n":1}\nitem:\nid: 1\ncontent: a <b> & "c"\nheaders: {"x-kind":"demo"}\nmetadata: {"source":"mock","n":1}\npagination:\nnextCursor: 1\n');
  });

  it('answers text/plain when Accept is missing, 400 for an unacceptable Accept', async () => {
    const res = await new Promise<http.IncomingMessage & { body: string }>((resolve, reject) => {
      const req = http.get(`${gateway.url}/fast?limit=1`, (response) => {
        let body = '';
        response.on('data', (c) => (body += c));
        response.on('end', () => resolve(Object.assign(response, { body })));
      });
      req.on('error', reject);
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(res.body).toBe('items:\nitem:\nid: 0\ncontent: mock message\npagination:\nnextCursor: 0\n');
    const bad = await get('/fast', { Accept: 'image/png' });
    expect(bad.status).toBe(400);
    expect((await bad.json()).code).toBe('NOT_ACCEPTABLE');
  });

  it('negotiates with q-values and specificity', () => {
    expect(negotiate(undefined)).toBe('text');
    expect(negotiate('*/*')).toBe('json');
    expect(negotiate('application/*')).toBe('json');
    expect(negotiate('text/*')).toBe('text');
    expect(negotiate('application/xml, application/json;q=0.5')).toBe('xml');
    expect(negotiate('text/plain;q=0.9, application/json;q=0.8')).toBe('text');
    expect(negotiate('text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8')).toBe('xml');
    expect(negotiate('application/json;q=0, */*')).toBe('xml');
    expect(() => negotiate('application/json;q=0')).toThrow(/Accept/);
    expect(() => negotiate('text/html')).toThrow(/Accept/);
  });

  it('releases the subscription when the client vanishes mid-response', async () => {
    const before = counting.built.at(-1)!;
    const controller = new AbortController();
    const pending = fetch(`${gateway.url}/broker`, { signal: controller.signal }).catch(() => 'aborted');
    await waitFor(() => before.activeSubscriptions === 1, 2000, 'the upstream subscription');
    expect(gateway.routers.current!.exchanges.get('broker')!.connections.size).toBe(1);
    controller.abort();
    expect(await pending).toBe('aborted');
    await waitFor(() => before.activeSubscriptions === 0, 2000, 'the upstream subscription to be released');
    await waitFor(() => gateway.routers.current!.exchanges.get('broker')!.connections.size === 0, 2000, 'the connection to be released');
  });

  it('delivers broker messages that arrive during the poll', async () => {
    const endpoint = counting.built.at(-1)!;
    const pending = fetch(`${gateway.url}/broker?limit=2`, { headers: { Accept: 'application/json' } }).then((r) => r.json());
    await waitFor(() => endpoint.activeSubscriptions === 1, 2000, 'the upstream subscription');
    endpoint.emit('one');
    endpoint.emit(Buffer.from([0xff, 0xfe]));
    const body = await pending;
    expect(body.items.map((i: { content: string }) => i.content)).toEqual(['one', '//4=']);
    expect(body.items[1].contentEncoding).toBe('base64');
  });
});
