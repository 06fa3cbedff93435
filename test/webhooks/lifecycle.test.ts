/**
 * Webhook subscriptions through a real gateway and real callback servers, over an in-memory
 * group log (memory-log.ts): ordered delivery, retries, dead letters, halt on a refusal and
 * resume (admin port and CLI), deploy lifecycle (unchanged keeps, changed restarts, removed
 * stops), configuration failures. The same paths against real Kafka and MQTT: kafka.test.ts,
 * processes.test.ts, mqtt.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Plan, Subscription, WebhookSubscription } from '../../schemas/types.ts';
import { registryWith } from '../support/registry.ts';
import { parseAllowedHosts } from '../../runtime/entrypoints/webhook/allowed-hosts.ts';
import { run as subscriptionsCli } from '../../cli/subscriptions.ts';
import type { Gateway } from '../../runtime/gateway.ts';
import { gatewayWith, waitFor } from '../support/harness.ts';
import { makeBundle } from '../support/bundles.ts';
import { MemoryLog } from './memory-log.ts';
import { startCallbackServer, type CallbackServer } from './callback-server.ts';

let log: MemoryLog;
/** The endpoint under `kafka` is the current test's in-memory log. */
const registry = registryWith({ kafka: (config, context) => log.factory(config, context) });
let gateway: Gateway | undefined;
const servers: CallbackServer[] = [];

beforeEach(() => {
  log = new MemoryLog();
});
afterEach(async () => {
  await gateway?.close();
  gateway = undefined;
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const push: Record<string, Plan> = { push: { type: 'push', name: 'Push', status: 'published' } };
const fastRetry = { strategy: 'linear', maxAttempts: 5, initialDelayMs: 20, maxDelayMs: 50 } as const;

function bundle(subscriptions: Record<string, Partial<WebhookSubscription> & { callbackUrl: string }>, extra: { state?: 'started' | 'stopped'; qos?: 'at-most-once' } = {}) {
  const subs: Record<string, Subscription> = Object.fromEntries(
    Object.entries(subscriptions).map(([name, webhook]) => [name, { plan: 'push', webhook: { retry: fastRetry, ...webhook } }]),
  );
  return makeBundle({
    orders: {
      definition: {
        ...(extra.state ? { state: extra.state } : {}),
        entrypoints: [{ type: 'webhook', ...(extra.qos ? { qos: extra.qos } : {}) }],
        endpoints: [{ type: 'kafka', bootstrapServers: ['127.0.0.1:1'], consumer: { topics: ['memory'] } }],
      },
      plans: push,
      subscriptions: subs,
    },
  });
}

async function callbackServer(answer?: Parameters<typeof startCallbackServer>[0]): Promise<CallbackServer> {
  const server = await startCallbackServer(answer);
  servers.push(server);
  return server;
}

interface Row { api: string; subscription: string; state: string; delivered: number; deadLettered: number; retries: number; startedAt: string; lastError: { message: string; status?: number; code?: string } | null; consumer: { connected: boolean } | null }

async function rows(): Promise<Row[]> {
  const res = await fetch(`${gateway!.adminUrl}/subscriptions`);
  return ((await res.json()) as { subscriptions: Row[] }).subscriptions;
}

async function row(name: string): Promise<Row | undefined> {
  return (await rows()).find((r) => r.subscription === name);
}

async function waitForState(name: string, state: string, ms = 5_000): Promise<Row> {
  const deadline = Date.now() + ms;
  let last: Row | undefined;
  while (Date.now() < deadline) {
    last = await row(name);
    if (last?.state === state) return last;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`subscription ${name} did not reach state ${state} within ${ms} ms (last: ${JSON.stringify(last)})`);
}

const contents = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `m${from + i}`);

describe('webhook subscriptions', () => {
  it('delivers every message in order and reports it on /status', async () => {
    const target = await callbackServer();
    gateway = await gatewayWith(bundle({ acme: { callbackUrl: target.url } }), { registry });
    log.append(...contents(0, 50));
    await target.waitForDelivered(50, 10_000);
    expect(target.delivered()).toEqual(contents(0, 50));
    await waitFor(() => log.committed.get('sluice-webhook-orders-acme') === 50, 2_000, 'all 50 committed');
    const status = (await (await fetch(`${gateway.adminUrl}/status`)).json()) as { apis: { orders: { entrypoints: { webhook: { subscriptions: Record<string, Row> } } } } };
    const acme = status.apis.orders.entrypoints.webhook.subscriptions.acme!;
    expect(acme).toMatchObject({ state: 'started', delivered: 50, deadLettered: 0, lastError: null, consumer: { connected: true } });
  });

  it('retries while the callback answers 503, then delivers everything in order', async () => {
    let seenRetrying: string | undefined;
    const target = await callbackServer(async ({ index }) => {
      if (index === 3) seenRetrying = (await row('acme'))?.state;
      return index < 5 ? 503 : 200;
    });
    gateway = await gatewayWith(bundle({ acme: { callbackUrl: target.url, retry: { ...fastRetry, maxAttempts: 10 } } }), { registry });
    log.append(...contents(0, 20));
    await target.waitForDelivered(20, 10_000);
    expect(target.delivered()).toEqual(contents(0, 20));
    expect(target.received.slice(0, 5).map((r) => r.body)).toEqual(['m0', 'm0', 'm0', 'm0', 'm0']);
    expect(seenRetrying).toBe('retrying');
    expect(await row('acme')).toMatchObject({ state: 'started', delivered: 20, retries: 5, lastError: { status: 503 } });
  });

  it('sends a refused message to the dead-letter topic and goes on', async () => {
    const target = await callbackServer(({ body }) => (body === 'm3' ? 400 : 200));
    gateway = await gatewayWith(bundle({ acme: { callbackUrl: target.url, deadLetter: { topic: 'orders-dlq' } } }), { registry });
    log.append(...contents(0, 8));
    await target.waitForDelivered(7, 10_000);
    expect(target.delivered()).toEqual(['m0', 'm1', 'm2', 'm4', 'm5', 'm6', 'm7']);
    expect(log.deadLetters).toHaveLength(1);
    const [letter] = log.deadLetters;
    expect(letter!.topic).toBe('orders-dlq');
    expect(letter!.message.content.toString()).toBe('m3');
    expect(letter!.message.headers).toMatchObject({
      'x-sluice-api': 'orders', 'x-sluice-subscription': 'acme', 'x-sluice-plan': 'push', 'x-sluice-status': '400',
      'x-sluice-attempts': '1', 'x-sluice-source-offset': '3', 'x-sluice-error': 'callback answered HTTP 400',
    });
    expect(await row('acme')).toMatchObject({ state: 'started', delivered: 7, deadLettered: 1, lastError: { status: 400, code: 'DEAD_LETTERED' } });
  });

  it('dead-letters a message out of attempts', async () => {
    const target = await callbackServer(({ body }) => (body === 'm1' ? 500 : 200));
    gateway = await gatewayWith(bundle({ acme: { callbackUrl: target.url, retry: { ...fastRetry, maxAttempts: 3 }, deadLetter: { topic: 'dlq' } } }), { registry });
    log.append(...contents(0, 3));
    await target.waitForDelivered(2, 10_000);
    await waitFor(() => log.deadLetters.length === 1, 2_000, 'the dead letter');
    expect(log.deadLetters[0]!.message.headers).toMatchObject({ 'x-sluice-status': '500', 'x-sluice-attempts': '3' });
    expect(target.received.filter((r) => r.body === 'm1')).toHaveLength(3);
  });

  it('without a dead-letter topic, a 400 halts it in state failure holding its position; resume goes on in order', async () => {
    let fixed = false;
    const target = await callbackServer(({ body }) => (body === 'm2' && !fixed ? 400 : 200));
    gateway = await gatewayWith(bundle({ acme: { callbackUrl: target.url } }), { registry });
    log.append(...contents(0, 5));
    const failed = await waitForState('acme', 'failure');
    expect(failed.lastError).toMatchObject({ status: 400, code: 'CALLBACK_REFUSED', message: 'callback answered HTTP 400' });
    expect(target.delivered()).toEqual(['m0', 'm1']);
    expect(log.committed.get('sluice-webhook-orders-acme')).toBe(2);
    log.append('m5');
    await new Promise((resolve) => setTimeout(resolve, 200)); // nothing may move while in failure
    expect(target.received).toHaveLength(3);
    expect(log.committed.get('sluice-webhook-orders-acme')).toBe(2);

    fixed = true;
    const print = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const printError = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      expect(await subscriptionsCli(['resume', 'acme', '--admin', gateway.adminUrl!])).toBe(0);
      expect(print).toHaveBeenLastCalledWith(expect.stringMatching(/^resumed orders\/acme/));
      await target.waitForDelivered(6, 5_000);
      expect(target.delivered()).toEqual(contents(0, 6));
      expect(await subscriptionsCli(['resume', 'acme', '--api', 'orders', '--admin', gateway.adminUrl!])).toBe(0);
      expect(print).toHaveBeenLastCalledWith(expect.stringContaining('was not in failure'));
      expect(await subscriptionsCli(['resume', 'nobody', '--admin', gateway.adminUrl!])).toBe(1);
      expect(await subscriptionsCli(['resume', '--admin', gateway.adminUrl!])).toBe(2);
      expect(await subscriptionsCli(['list', '--admin', gateway.adminUrl!])).toBe(0);
      expect(print).toHaveBeenLastCalledWith(expect.stringMatching(/^orders\/acme {2}started {2}delivered 6/));
    } finally {
      print.mockRestore();
      printError.mockRestore();
    }
    expect(await row('acme')).toMatchObject({ state: 'started', delivered: 6 });
  });

  it('starts and stops subscriptions with deploys: unchanged keeps running, changed restarts, removed stops', async () => {
    const target = await callbackServer();
    const other = await callbackServer();
    gateway = await gatewayWith(bundle({ acme: { callbackUrl: target.url }, beta: { callbackUrl: target.url } }), { registry });
    await waitFor(() => log.consumers.get('sluice-webhook-orders-beta') === 1 && log.consumers.get('sluice-webhook-orders-acme') === 1, 2_000, 'both consumers');
    const acmeStarted = (await row('acme'))!.startedAt;

    // beta's callback changes: beta restarts, acme keeps its consumer.
    expect((await gateway.deploy(bundle({ acme: { callbackUrl: target.url }, beta: { callbackUrl: other.url } }))).deployed).toBe(true);
    expect(log.starts.get('sluice-webhook-orders-acme')).toBe(1);
    expect(log.starts.get('sluice-webhook-orders-beta')).toBe(2);
    expect(log.consumers.get('sluice-webhook-orders-beta')).toBe(1);
    expect((await row('acme'))!.startedAt).toBe(acmeStarted);
    log.append('after-change');
    await other.waitForDelivered(1, 5_000);
    await target.waitForDelivered(1, 5_000);
    expect(target.delivered()).toEqual(['after-change']);

    // beta removed: it stops and leaves; acme still the same consumer.
    expect((await gateway.deploy(bundle({ acme: { callbackUrl: target.url } }))).deployed).toBe(true);
    expect(log.consumers.get('sluice-webhook-orders-beta')).toBe(0);
    expect((await rows()).map((r) => r.subscription)).toEqual(['acme']);
    expect(log.starts.get('sluice-webhook-orders-acme')).toBe(1);

    // the API stopped: no consumer left.
    expect((await gateway.deploy(bundle({ acme: { callbackUrl: target.url } }, { state: 'stopped' }))).deployed).toBe(true);
    expect(log.consumers.get('sluice-webhook-orders-acme')).toBe(0);
    expect(await rows()).toEqual([]);
  });

  it('a redeploy resumes a failed subscription', async () => {
    let fixed = false;
    const target = await callbackServer(({ body }) => (body === 'm0' && !fixed ? 422 : 200));
    gateway = await gatewayWith(bundle({ acme: { callbackUrl: target.url } }), { registry });
    log.append('m0', 'm1');
    await waitForState('acme', 'failure');
    fixed = true;
    // Same subscription, another change to the API (a second subscription): the exchange is rebuilt and claims acme again.
    const other = await callbackServer();
    expect((await gateway.deploy(bundle({ acme: { callbackUrl: target.url }, beta: { callbackUrl: other.url } }))).deployed).toBe(true);
    await target.waitForDelivered(2, 5_000);
    expect(target.delivered()).toEqual(['m0', 'm1']);
    expect(log.starts.get('sluice-webhook-orders-acme')).toBe(1);
    expect(await row('acme')).toMatchObject({ state: 'started', delivered: 2 });
  });

  it('commits before calling the callback with qos at-most-once, after the 2xx by default', async () => {
    const seen: (number | undefined)[] = [];
    const target = await callbackServer(() => {
      seen.push(log.committed.get('sluice-webhook-orders-acme'));
      return 200;
    });
    gateway = await gatewayWith(bundle({ acme: { callbackUrl: target.url } }, { qos: 'at-most-once' }), { registry });
    log.append('m0', 'm1');
    await target.waitForDelivered(2, 5_000);
    expect(seen).toEqual([1, 2]);
    await gateway.close();
    gateway = undefined;

    log = new MemoryLog();
    seen.length = 0;
    gateway = await gatewayWith(bundle({ acme: { callbackUrl: target.url } }), { registry });
    log.append('m0', 'm1');
    await target.waitForDelivered(4, 5_000);
    expect(seen).toEqual([undefined, 1]);
  });

  it('does not start a callback outside --webhook-allowed-hosts, nor with a missing secret (state failure, resumable)', async () => {
    const target = await callbackServer();
    gateway = await gatewayWith(bundle({
      acme: { callbackUrl: 'http://hooks.example.com/hook' },
      secured: { callbackUrl: target.url, auth: { type: 'bearer', token: { env: 'SLUICE_TEST_WEBHOOK_TOKEN' } } },
    }), { registry, webhookAllowedHosts: parseAllowedHosts('127.0.0.1') });
    expect((await waitForState('acme', 'failure')).lastError).toMatchObject({ code: 'CALLBACK_HOST_NOT_ALLOWED' });
    const secured = await waitForState('secured', 'failure');
    expect(secured.lastError).toMatchObject({ code: 'SECRET_UNRESOLVED' });
    expect(secured.lastError!.message).toContain('env:SLUICE_TEST_WEBHOOK_TOKEN');

    process.env.SLUICE_TEST_WEBHOOK_TOKEN = 'tok';
    try {
      const res = await fetch(`${gateway.adminUrl}/subscriptions/secured/resume?api=orders`, { method: 'POST' });
      expect(await res.json()).toMatchObject({ resumed: true });
      await waitForState('secured', 'started');
      log.append('hello');
      await target.waitForDelivered(1, 5_000);
      expect(target.received[0]!.headers.authorization).toBe('Bearer tok');
    } finally {
      delete process.env.SLUICE_TEST_WEBHOOK_TOKEN;
    }
  });

  it('consumes from the endpoint the exchange subscribes with, whatever its type says (no type switch)', async () => {
    const server = await callbackServer();
    // A kafka config without a consumer section, built by a factory whose endpoint subscribes:
    // the endpoint instance, not the config's type, decides.
    const b = bundle({ acme: { callbackUrl: server.url } });
    b.apis.orders!.definition.endpoints = [{ type: 'kafka', bootstrapServers: ['127.0.0.1:1'], producer: { topic: 'memory' } }];
    gateway = await gatewayWith(makeBundle({ orders: { definition: b.apis.orders!.definition, plans: push, subscriptions: b.apis.orders!.subscriptions } }), { registry });
    log.append('one', 'two');
    await server.waitForDelivered(2, 5_000);
    expect(server.delivered()).toEqual(['one', 'two']);
  });
});
