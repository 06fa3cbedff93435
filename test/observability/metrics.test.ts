/**
 * /metrics on the admin port while traffic flows through a real gateway: WebSocket and HTTP GET
 * over the mock endpoint (per-client generation) and over a shared broker-like endpoint (fanout),
 * an auth failure, a rate-limited request, policy drops, endpoint health and reconnects, deploys.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../runtime/gateway.ts';
import { registryWith } from '../support/registry.ts';
import { connect, gatewayWith, waitFor, within, wsUrl, HandshakeRefused } from '../support/harness.ts';
import { makeBundle, type ApiSpec } from '../support/bundles.ts';
import { CountingEndpoint } from '../runtime/counting-endpoint.ts';
import { newApiKey } from '../plans/fixtures.ts';
import { scrape, type Scrape } from './prometheus.ts';
import { errors } from '../../core/errors.ts';

/** A shared endpoint whose health the test switches. */
class FlakyEndpoint extends CountingEndpoint {
  healthy = true;
  override health() {
    return this.healthy ? { healthy: true } : { healthy: false, detail: 'switched off by the test' };
  }
}
const shared: FlakyEndpoint[] = [];
const kafkaFactory = () => {
  const endpoint = new FlakyEndpoint();
  shared.push(endpoint);
  return endpoint;
};
const registry = registryWith({ kafka: kafkaFactory });

const key = newApiKey();
const CONTENT = 'hello metrics';
const apis = (extra: Record<string, ApiSpec> = {}): Record<string, ApiSpec> => ({
  stream: {
    definition: {
      contextPaths: ['/stream/'],
      entrypoints: [{ type: 'http-get', messagesLimitDurationMs: 3000 }, { type: 'websocket' }],
      endpoints: [{ type: 'mock', messageInterval: 15, messageContent: CONTENT }],
      flows: { subscribe: [{ policy: 'message-filter', condition: 'number(id) % 2 == 0' }], publish: [] },
    },
  },
  broker: {
    definition: { contextPaths: ['/broker/'], entrypoints: [{ type: 'websocket' }, { type: 'sse' }], endpoints: [{ type: 'kafka', bootstrapServers: ['127.0.0.1:1'], consumer: { topics: ['t'] }, producer: { topic: 't' } }] },
  },
  keyed: {
    definition: { contextPaths: ['/keyed/'], endpoints: [{ type: 'mock', messageInterval: 15 }] },
    plans: { gold: { type: 'api-key', name: 'Gold', status: 'published' } },
    subscriptions: { acme: { plan: 'gold', apiKeys: [{ hash: key.hash }] } },
  },
  limited: {
    definition: { contextPaths: ['/limited/'], endpoints: [{ type: 'mock', messageInterval: 15 }] },
    plans: { open: { type: 'keyless', name: 'Open', status: 'published', rateLimit: { limit: 1, periodTime: 1, periodTimeUnit: 'HOURS' } } },
  },
  ...extra,
});

let gateway: Gateway;
const metrics = (): Promise<Scrape> => scrape(gateway.adminUrl!);
const ep = (api: string, entrypoint: string, more: Record<string, string> = {}) => ({ api, entrypoint, ...more });

/** Scrapes until `check` holds (counters are read at scrape time, traffic is asynchronous). */
async function until(check: (m: Scrape) => boolean, what: string, ms = 5000): Promise<Scrape> {
  const deadline = Date.now() + ms;
  let last = await metrics();
  while (!check(last)) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
    last = await metrics();
  }
  return last;
}

beforeAll(async () => {
  gateway = await gatewayWith(makeBundle(apis()), { registry });
});
afterAll(() => gateway?.close());

describe('/metrics', () => {
  it('is Prometheus text with the default process metrics', async () => {
    const m = await metrics();
    expect(m.text).toContain('# TYPE sluice_connections_open gauge');
    expect(m.text).toContain('# TYPE sluice_messages_total counter');
    expect(m.has('process_cpu_user_seconds_total')).toBe(true);
    expect(m.has('nodejs_heap_size_used_bytes')).toBe(true);
  });

  it('counts a WebSocket stream while it flows: connections, messages, bytes, policy drops, publishes', async () => {
    const before = await metrics();
    const client = connect(wsUrl(gateway, '/stream/'));
    await within(client.opened, 3000, 'the WebSocket to open');
    await waitFor(() => client.messages.length >= 6, 5000, '6 messages');
    const during = await until((m) => m.value('sluice_messages_total', ep('stream', 'websocket', { direction: 'subscribe' })) - before.value('sluice_messages_total', ep('stream', 'websocket', { direction: 'subscribe' })) >= 6, 'subscribe messages counted');
    expect(during.value('sluice_connections_open', ep('stream', 'websocket'))).toBe(1);
    expect(during.value('sluice_connections_total', ep('stream', 'websocket')) - before.value('sluice_connections_total', ep('stream', 'websocket'))).toBe(1);
    const delivered = during.value('sluice_messages_total', ep('stream', 'websocket', { direction: 'subscribe' })) - before.value('sluice_messages_total', ep('stream', 'websocket', { direction: 'subscribe' }));
    expect(during.value('sluice_message_bytes_total', ep('stream', 'websocket', { direction: 'subscribe' })) - before.value('sluice_message_bytes_total', ep('stream', 'websocket', { direction: 'subscribe' }))).toBe(delivered * CONTENT.length);
    // Odd ids are filtered: counted per client and per policy step.
    expect(during.value('sluice_messages_dropped_total', ep('stream', 'websocket', { reason: 'policy' }))).toBeGreaterThan(before.value('sluice_messages_dropped_total', ep('stream', 'websocket', { reason: 'policy' })));
    expect(during.value('sluice_policy_outcomes_total', { api: 'stream', direction: 'subscribe', step: '0', policy: 'message-filter', outcome: 'dropped' })).toBeGreaterThan(0);

    client.ws.send('one');
    client.ws.send('two!');
    const published = await until((m) => m.value('sluice_messages_total', ep('stream', 'websocket', { direction: 'publish' })) - before.value('sluice_messages_total', ep('stream', 'websocket', { direction: 'publish' })) === 2, '2 publishes counted');
    expect(published.value('sluice_message_bytes_total', ep('stream', 'websocket', { direction: 'publish' })) - before.value('sluice_message_bytes_total', ep('stream', 'websocket', { direction: 'publish' }))).toBe(7);

    client.ws.close();
    await within(client.closed, 3000, 'the WebSocket to close');
    await until((m) => m.value('sluice_connections_open', ep('stream', 'websocket')) === 0, 'the open gauge back to 0');
  });

  it('counts fanout deliveries per client of a shared endpoint', async () => {
    const before = await metrics();
    const clients = [connect(wsUrl(gateway, '/broker/')), connect(wsUrl(gateway, '/broker/'))];
    await Promise.all(clients.map((c) => within(c.opened, 3000, 'the WebSocket to open')));
    await until((m) => m.value('sluice_connections_open', ep('broker', 'websocket')) === 2, 'two open connections');
    const endpoint = shared.at(-1)!;
    await waitFor(() => endpoint.activeSubscriptions === 1, 3000, 'the shared upstream subscription');
    for (let i = 0; i < 5; i++) endpoint.emit(`m${i}`);
    await waitFor(() => clients.every((c) => c.messages.length === 5), 3000, 'every client to get 5 messages');
    const after = await until((m) => m.value('sluice_messages_total', ep('broker', 'websocket', { direction: 'subscribe' })) - before.value('sluice_messages_total', ep('broker', 'websocket', { direction: 'subscribe' })) === 10, '10 deliveries counted');
    expect(after.value('sluice_message_bytes_total', ep('broker', 'websocket', { direction: 'subscribe' })) - before.value('sluice_message_bytes_total', ep('broker', 'websocket', { direction: 'subscribe' }))).toBe(20);
    for (const c of clients) c.ws.close();
    await Promise.all(clients.map((c) => within(c.closed, 3000, 'the WebSocket to close')));
  });

  it('counts deliveries to SSE clients of a shared endpoint, and an upstream failure by its code', async () => {
    const before = await metrics();
    const delta = (m: Scrape, name: string, labels: Record<string, string>) => m.value(name, labels) - before.value(name, labels);
    const res = await fetch(`${gateway.url}/broker/`, { headers: { accept: 'text/event-stream' } });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let text = '';
    const readUntil = async (pattern: RegExp, what: string) => {
      await within((async () => {
        while (!pattern.test(text)) {
          const { value, done } = await reader.read();
          if (done) throw new Error(`the stream ended before ${what}: ${text}`);
          text += Buffer.from(value).toString('utf8');
        }
      })(), 5000, what);
    };
    const endpoint = shared.at(-1)!;
    await waitFor(() => endpoint.activeSubscriptions === 1, 3000, 'the shared upstream subscription');
    for (let i = 0; i < 3; i++) endpoint.emit(`sse${i}`);
    await readUntil(/data: sse2\n/, 'three events');
    const flowing = await until((m) => delta(m, 'sluice_messages_total', ep('broker', 'sse', { direction: 'subscribe' })) === 3, '3 SSE deliveries counted');
    expect(flowing.value('sluice_connections_open', ep('broker', 'sse'))).toBe(1);
    expect(delta(flowing, 'sluice_message_bytes_total', ep('broker', 'sse', { direction: 'subscribe' }))).toBe(12);

    endpoint.fail(errors.endpointUnavailable('switched off by the test'));
    await readUntil(/event: error\ndata: .*ENDPOINT_UNAVAILABLE/, 'the error event');
    const failed = await until((m) => m.value('sluice_connections_open', ep('broker', 'sse')) === 0, 'the SSE connection to close');
    expect(delta(failed, 'sluice_errors_total', ep('broker', 'sse', { code: 'ENDPOINT_UNAVAILABLE' }))).toBe(1);
    await reader.cancel().catch(() => undefined);
  });

  it('releases a piped SSE client and the shared upstream when the client leaves', async () => {
    const controller = new AbortController();
    const res = await fetch(`${gateway.url}/broker/`, { headers: { accept: 'text/event-stream' }, signal: controller.signal });
    expect(res.status).toBe(200);
    const endpoint = shared.at(-1)!;
    await waitFor(() => endpoint.activeSubscriptions === 1, 3000, 'the shared upstream subscription');
    await until((m) => m.value('sluice_connections_open', ep('broker', 'sse')) === 1, 'one open SSE connection');
    controller.abort();
    await waitFor(() => endpoint.activeSubscriptions === 0, 3000, 'the upstream to be released');
    await until((m) => m.value('sluice_connections_open', ep('broker', 'sse')) === 0, 'the SSE connection to close');
  });

  it('counts an HTTP GET long poll', async () => {
    const before = await metrics();
    const res = await fetch(`${gateway.url}/stream/?limit=3`, { headers: { accept: 'application/json' } });
    expect(res.status).toBe(200);
    expect((await res.json()).items).toHaveLength(3);
    const after = await until((m) => m.value('sluice_connections_open', ep('stream', 'http-get')) === 0 && m.value('sluice_connections_total', ep('stream', 'http-get')) > before.value('sluice_connections_total', ep('stream', 'http-get')), 'the poll to be counted');
    expect(after.value('sluice_connections_total', ep('stream', 'http-get')) - before.value('sluice_connections_total', ep('stream', 'http-get'))).toBe(1);
    expect(after.value('sluice_messages_total', ep('stream', 'http-get', { direction: 'subscribe' })) - before.value('sluice_messages_total', ep('stream', 'http-get', { direction: 'subscribe' }))).toBe(3);
  });

  it('counts auth failures and errors by code, over HTTP GET and WebSocket handshakes', async () => {
    const before = await metrics();
    const res = await fetch(`${gateway.url}/keyed/`, { headers: { 'x-api-key': 'not-the-key' } });
    expect(res.status).toBe(401);
    const refused = connect(wsUrl(gateway, '/keyed/'), { headers: { 'x-api-key': 'not-the-key' } });
    const error = await refused.opened.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(HandshakeRefused);
    expect((error as HandshakeRefused).status).toBe(401);
    const ok = await fetch(`${gateway.url}/keyed/?limit=1`, { headers: { 'x-api-key': key.key } });
    expect(ok.status).toBe(200);
    await ok.text();

    const after = await metrics();
    const delta = (name: string, labels: Record<string, string>) => after.value(name, labels) - before.value(name, labels);
    expect(delta('sluice_auth_failures_total', ep('keyed', 'http-get'))).toBe(1);
    expect(delta('sluice_auth_failures_total', ep('keyed', 'websocket'))).toBe(1);
    expect(delta('sluice_errors_total', ep('keyed', 'http-get', { code: 'API_KEY_INVALID' }))).toBe(1);
    expect(delta('sluice_errors_total', ep('keyed', 'websocket', { code: 'API_KEY_INVALID' }))).toBe(1);
    expect(delta('sluice_connections_total', ep('keyed', 'http-get'))).toBe(1);
  });

  it('counts rate-limited requests', async () => {
    const before = await metrics();
    const first = await fetch(`${gateway.url}/limited/?limit=1`);
    expect(first.status).toBe(200);
    await first.text();
    const second = await fetch(`${gateway.url}/limited/?limit=1`);
    expect(second.status).toBe(429);
    const after = await metrics();
    expect(after.value('sluice_rate_limited_total', ep('limited', 'http-get')) - before.value('sluice_rate_limited_total', ep('limited', 'http-get'))).toBe(1);
    expect(after.value('sluice_errors_total', ep('limited', 'http-get', { code: 'RATE_LIMIT_EXCEEDED' })) - before.value('sluice_errors_total', ep('limited', 'http-get', { code: 'RATE_LIMIT_EXCEEDED' }))).toBe(1);
  });

  it('counts requests that match no API under empty labels', async () => {
    const before = await metrics();
    expect((await fetch(`${gateway.url}/nowhere/`)).status).toBe(404);
    const after = await metrics();
    expect(after.value('sluice_errors_total', { api: '', entrypoint: '', code: 'NO_CONTEXT_PATH' }) - before.value('sluice_errors_total', { api: '', entrypoint: '', code: 'NO_CONTEXT_PATH' })).toBe(1);
  });

  it('reports endpoint health and counts reconnects', async () => {
    const endpoint = shared.at(-1)!;
    const labels = { api: 'broker', endpoint: 'counting', index: '0' };
    let m = await metrics();
    expect(m.value('sluice_endpoint_up', labels)).toBe(1);
    expect(m.value('sluice_endpoint_up', { api: 'stream', endpoint: 'mock' })).toBe(1);
    const reconnects = m.value('sluice_endpoint_reconnects_total', labels);
    endpoint.healthy = false;
    m = await metrics();
    expect(m.value('sluice_endpoint_up', labels)).toBe(0);
    expect(m.value('sluice_endpoint_reconnects_total', labels)).toBe(reconnects);
    endpoint.healthy = true;
    m = await metrics();
    expect(m.value('sluice_endpoint_up', labels)).toBe(1);
    expect(m.value('sluice_endpoint_reconnects_total', labels)).toBe(reconnects + 1);
  });

  it('reports the bundle served, swaps, swap durations and failed deploys', async () => {
    const before = await metrics();
    const first = gateway.routers.current!.bundleId;
    expect(before.value('sluice_bundle_info', { bundle_id: first })).toBe(1);
    const next = makeBundle(apis({ extra: { definition: { contextPaths: ['/extra/'] } } }));
    expect((await gateway.deploy(next)).deployed).toBe(true);
    expect((await gateway.deploy({ formatVersion: 1, id: 'broken' })).deployed).toBe(false);
    const after = await metrics();
    expect(after.value('sluice_bundle_info', { bundle_id: next.id })).toBe(1);
    expect(after.has('sluice_bundle_info', { bundle_id: first })).toBe(false);
    expect(after.value('sluice_swaps_total', { result: 'deployed' }) - before.value('sluice_swaps_total', { result: 'deployed' })).toBe(1);
    expect(after.value('sluice_swaps_total', { result: 'failed' }) - before.value('sluice_swaps_total', { result: 'failed' })).toBe(1);
    expect(after.value('sluice_swap_duration_seconds_count') - before.value('sluice_swap_duration_seconds_count')).toBe(1);
    expect(after.value('sluice_swap_duration_seconds_sum')).toBeGreaterThan(0);
  });
});
