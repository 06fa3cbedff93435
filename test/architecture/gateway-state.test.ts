/**
 * Two gateways in one process own their state: the auth-failure throttle, the rate-limit
 * counters, the webhook allowed hosts, the webhook subscription table and the telemetry (its
 * listeners and the metrics behind /metrics) are given to each by startGateway
 * (runtime/gateway-state.ts), not set process-wide, and so are the /status counters. What one
 * gateway counts, refuses, runs or emits does not show in the other, though both serve the same bundle.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../runtime/gateway.ts';
import type { TelemetryEvent } from '../../runtime/metrics/telemetry.ts';
import type { Api, Plan } from '../../schemas/types.ts';
import { parseAllowedHosts } from '../../runtime/entrypoints/webhook/allowed-hosts.ts';
import { makeBundle } from '../support/bundles.ts';
import { gatewayWith, waitFor } from '../support/harness.ts';
import { newApiKey } from '../plans/fixtures.ts';
import { startCallbackServer, type CallbackServer } from '../webhooks/callback-server.ts';
import { scrape } from '../observability/prometheus.ts';

const acme = newApiKey();
const mock: Partial<Api> = { endpoints: [{ type: 'mock', messageInterval: 20 }] };
const gold: Record<string, Plan> = { gold: { type: 'api-key', name: 'Gold', status: 'published' } };
const open: Record<string, Plan> = { open: { type: 'keyless', name: 'Open', status: 'published', rateLimit: { limit: 2, periodTime: 1, periodTimeUnit: 'HOURS' } } };
const push: Record<string, Plan> = { push: { type: 'push', name: 'Push', status: 'published' } };

let target: CallbackServer;
let a: Gateway;
let b: Gateway;

beforeAll(async () => {
  target = await startCallbackServer();
  const bundle = makeBundle({
    keyed: { definition: { ...mock }, plans: gold, subscriptions: { acme: { plan: 'gold', apiKeys: [{ hash: acme.hash }] } } },
    limited: { definition: { ...mock }, plans: open },
    quiet: { definition: { ...mock } },
    hooks: {
      definition: { ...mock, entrypoints: [{ type: 'webhook' }] },
      plans: push,
      subscriptions: { orders: { plan: 'push', webhook: { callbackUrl: `${target.url}` } } },
    },
  });
  a = await gatewayWith(bundle, { authFailureLimit: { failures: 2, windowSeconds: 60 }, webhookAllowedHosts: parseAllowedHosts('127.0.0.1') });
  b = await gatewayWith(bundle, { authFailureLimit: null, webhookAllowedHosts: parseAllowedHosts('hooks.example.com') });
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  await target?.close();
});

const get = async (gateway: Gateway, path: string, key?: string) =>
  (await fetch(`${gateway.url}${path}?limit=1`, { headers: key ? { 'X-Api-Key': key } : {}, signal: AbortSignal.timeout(5_000) })).status;

interface Row { api: string; subscription: string; state: string; delivered: number; lastError: { code?: string } | null }
const rows = async (gateway: Gateway): Promise<Row[]> =>
  ((await (await fetch(`${gateway.adminUrl}/subscriptions`)).json()) as { subscriptions: Row[] }).subscriptions;

describe('two gateways in one process', () => {
  it('throttle failed authentications each with its own limit and count', async () => {
    for (let i = 0; i < 2; i += 1) expect(await get(a, '/keyed', 'wrong-key')).toBe(401);
    expect(await get(a, '/keyed', acme.key)).toBe(429);
    // B has the throttle off and has counted nothing of A's failures: same client, same API.
    for (let i = 0; i < 5; i += 1) expect(await get(b, '/keyed', 'wrong-key')).toBe(401);
    expect(await get(b, '/keyed', acme.key)).toBe(200);
    expect(await get(a, '/keyed', acme.key)).toBe(429);
  });

  it('count rate limits in counters of their own', async () => {
    for (let i = 0; i < 2; i += 1) expect(await get(a, '/limited')).toBe(200);
    expect(await get(a, '/limited')).toBe(429);
    // Same API, plan and client address on B: its counter starts at zero.
    for (let i = 0; i < 2; i += 1) expect(await get(b, '/limited')).toBe(200);
    expect(await get(b, '/limited')).toBe(429);
    // And each /status shows what that gateway admitted and refused, not the sum of both.
    for (const gateway of [a, b]) {
      const status = (await (await fetch(`${gateway.adminUrl}/status`)).json()) as { apis: Record<string, { plans: Record<string, { counters?: object }> }> };
      expect(status.apis.limited!.plans.open!.counters).toEqual({ requests: 2, messages: 0, rejected: 1 });
    }
  });

  it('apply their own webhook allowed hosts, and each lists only its own webhook subscriptions', async () => {
    await waitFor(() => target.received.length > 0, 5_000, 'gateway A (127.0.0.1 allowed) to deliver to the callback');
    let onB: Row[] = [];
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline && onB[0]?.state !== 'failure') {
      onB = await rows(b);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(onB).toHaveLength(1);
    expect(onB[0]).toMatchObject({ api: 'hooks', subscription: 'orders', state: 'failure', delivered: 0, lastError: { code: 'CALLBACK_HOST_NOT_ALLOWED' } });
    const onA = await rows(a);
    expect(onA).toHaveLength(1);
    expect(onA[0]).toMatchObject({ api: 'hooks', subscription: 'orders', state: 'started', lastError: null });
    expect(onA[0]!.delivered).toBeGreaterThan(0);
  });

  it('count traffic on metrics of their own, and each telemetry hears only its own gateway', async () => {
    const heard = { a: [] as TelemetryEvent[], b: [] as TelemetryEvent[] };
    const stopA = a.telemetry.on((event) => heard.a.push(event));
    const stopB = b.telemetry.on((event) => heard.b.push(event));
    try {
      // Traffic for `quiet` goes to A only; B gets one request for a path it does not serve.
      const response = await fetch(`${a.url}/quiet/?limit=3`, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(5_000) });
      expect(response.status).toBe(200);
      expect(((await response.json()) as { items: unknown[] }).items).toHaveLength(3);
      expect((await fetch(`${b.url}/nowhere/`, { signal: AbortSignal.timeout(5_000) })).status).toBe(404);
      await waitFor(() => heard.a.some((e) => e.kind === 'request' && e.api === 'quiet') && heard.b.some((e) => e.kind === 'request' && e.status === 404), 5_000, 'each gateway to emit its request event');

      const onA = await scrape(a.adminUrl!);
      const onB = await scrape(b.adminUrl!);
      expect(onA.value('sluice_connections_total', { api: 'quiet', entrypoint: 'http-get' })).toBe(1);
      expect(onA.value('sluice_messages_total', { api: 'quiet', entrypoint: 'http-get', direction: 'subscribe' })).toBe(3);
      expect(onB.has('sluice_connections_total', { api: 'quiet' })).toBe(false);
      expect(onB.has('sluice_messages_total', { api: 'quiet' })).toBe(false);
      // The 404 counted on B (no API matched), not on A.
      expect(onB.value('sluice_errors_total', { api: '', code: 'NO_CONTEXT_PATH' })).toBeGreaterThan(0);
      expect(onA.has('sluice_errors_total', { api: '', code: 'NO_CONTEXT_PATH' })).toBe(false);
      // Both show the process metrics (one process), each with its own deploy counted once.
      for (const gateway of [onA, onB]) {
        expect(gateway.has('process_cpu_user_seconds_total')).toBe(true);
        expect(gateway.value('sluice_swaps_total', { result: 'deployed' })).toBe(1);
      }

      expect(heard.b.some((e) => 'api' in e && e.api === 'quiet')).toBe(false);
      expect(heard.a.some((e) => e.kind === 'request' && e.status === 404)).toBe(false);
    } finally {
      stopA();
      stopB();
    }
  });
});
