/**
 * What the webhook tests over MQTT, NATS and RabbitMQ share (Kafka's, acme() and until()): an API with a webhook entrypoint and
 * one subscription `acme` on a push plan (fast linear retries), the gateways and callback servers a
 * test starts (closed after each test), and `acme`'s row on the admin `/subscriptions` polled until
 * a condition holds (bounded, naming what it waited for).
 */
import { afterEach } from 'vitest';
import type { Endpoint, Plan, Subscription, WebhookSubscription } from '../../schemas/types.ts';
import type { Gateway } from '../../runtime/gateway.ts';
import { gatewayWith } from '../support/harness.ts';
import { makeBundle } from '../support/bundles.ts';
import { startCallbackServer, type Answer, type CallbackServer } from './callback-server.ts';

const push: Record<string, Plan> = { push: { type: 'push', name: 'Push', status: 'published' } };

export type Webhook = Partial<WebhookSubscription> & { callbackUrl: string };

/** A bundle of API `api` reading `endpoint`, delivering to `webhook` as subscription `acme`. */
export function webhookBundle(api: string, endpoint: Endpoint, webhook: Webhook, maxAttempts = 50) {
  const subscriptions: Record<string, Subscription> = { acme: { plan: 'push', webhook: { retry: { strategy: 'linear', initialDelayMs: 20, maxDelayMs: 50, maxAttempts }, ...webhook } } };
  return makeBundle({ [api]: { definition: { entrypoints: [{ type: 'webhook' }], endpoints: [endpoint] }, plans: push, subscriptions } });
}

export interface Row {
  subscription: string;
  state: string;
  delivered: number;
  deadLettered: number;
  retries: number;
  lastError: { status?: number; code?: string; message: string } | null;
  consumer: { connected: boolean; assignment?: string } | null;
}

export const connected = (row: Row) => row.consumer?.connected === true;

/** `acme`'s row on the gateway's admin `/subscriptions`. */
export async function acme(gateway: Gateway): Promise<Row | undefined> {
  const res = await fetch(`${gateway.adminUrl}/subscriptions`);
  return ((await res.json()) as { subscriptions: Row[] }).subscriptions.find((row) => row.subscription === 'acme');
}

/** Polls `acme`'s row until `test` holds; fails after `ms` with `what` and the last row. */
export async function until(gateway: Gateway, test: (row: Row) => boolean, ms: number, what: string): Promise<Row> {
  const deadline = Date.now() + ms;
  let last: Row | undefined;
  while (Date.now() < deadline) {
    last = await acme(gateway);
    if (last && test(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
}

export interface WebhookRig {
  /** A gateway with `bundle` deployed, closed after the test. */
  started(bundle: unknown): Promise<Gateway>;
  /** A callback server, closed after the test. */
  callbackServer(answer?: Answer): Promise<CallbackServer>;
  /** Closes `gateway` now (all of this test's gateways without one). */
  stop(gateway?: Gateway): Promise<void>;
}

/** Call once at the top of a test file: registers the after-each cleanup. */
export function webhookRig(): WebhookRig {
  const gateways: Gateway[] = [];
  const servers: CallbackServer[] = [];
  afterEach(async () => {
    await Promise.all(gateways.splice(0).map((g) => g.close()));
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  return {
    async started(bundle) {
      const gateway = await gatewayWith(bundle);
      gateways.push(gateway);
      return gateway;
    },
    async callbackServer(answer) {
      const server = await startCallbackServer(answer);
      servers.push(server);
      return server;
    },
    async stop(gateway) {
      const closing = gateway ? gateways.filter((g) => g === gateway) : [...gateways];
      gateways.splice(0, gateways.length, ...gateways.filter((g) => !closing.includes(g)));
      await Promise.all(closing.map((g) => g.close()));
    },
  };
}
