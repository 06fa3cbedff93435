/**
 * The `webhook` entrypoint: a background entrypoint (it serves no request). Each accepted
 * subscription (with `webhook`) of a published or deprecated push plan of the API gets its own
 * consumer from the exchange (`groupConsumer`), `subscription.ts` (this folder), consuming in the group
 * `sluice-webhook-<api>-<subscription>` (the same on every runtime instance, so instances share
 * the work) and POSTing each message to the subscription's callback.
 *
 * `start` claims the subscriptions from this instance's table, `stop` releases them: consumers
 * whose definition (subscription, subscribing endpoint, subscribe flow, this entrypoint's settings)
 * did not change keep running across deploys; see subscriptions.ts.
 *
 * A subscription delivers only inside its `startingAt`/`endingAt` window: its consumer starts when
 * the window opens and stops at its end (state `pending` / `stopped` with a `reason` on /status).
 *
 * Settings: `maxConcurrentPerSubscription` (Kafka partitions delivered at once; order is kept per
 * partition; MQTT delivers one at a time), `qos` at-least-once / auto (commit after a 2xx) or
 * at-most-once / none (commit before the callback is called).
 */
import type { WebhookEntrypoint } from '../../../schemas/types.ts';
import type { EntrypointFactory } from '../entrypoint.ts';
import type { WebhookSpec } from './spec.ts';
import type { WebhookClaim } from './subscriptions.ts';
import { canonicalJson } from '../../../core/canonical-json.ts';
import { pushes } from '../../../core/plans.ts';
import { instant } from '../../plans/subscription-window.ts';

export const createWebhookEntrypoint: EntrypointFactory<WebhookEntrypoint> = (config, context) => {
  const { api } = context;
  const endpoint = context.subscribeEndpoint;
  const concurrency = config.maxConcurrentPerSubscription ?? 1;
  const maxInFlightBytes = api.definition.fanout?.maxQueuedBytes ?? 1024 * 1024;
  const qos = config.qos ?? 'auto';
  const commit = qos === 'at-most-once' || qos === 'none' ? 'before' : 'after';
  const flow = api.definition.flows?.subscribe;
  const specs: Omit<WebhookSpec, 'consumer'>[] = [];
  for (const [planKey, plan] of Object.entries(api.plans)) {
    if (!pushes(plan.type) || (plan.status !== 'published' && plan.status !== 'deprecated')) continue;
    for (const [name, subscription] of Object.entries(api.subscriptions)) {
      if (subscription.plan !== planKey || (subscription.status ?? 'accepted') !== 'accepted' || !subscription.webhook || !endpoint) continue;
      specs.push({
        apiId: context.apiId,
        name,
        planKey,
        group: `sluice-webhook-${context.apiId}-${name}`,
        webhook: subscription.webhook,
        meter: context.state.telemetry.trafficMeterFor(context.apiId, 'webhook'),
        ...(context.state.webhookAllowedHosts ? { allowedHosts: context.state.webhookAllowedHosts } : {}),
        tracing: context.state.tracing,
        system: endpoint.type,
        concurrency,
        maxInFlightBytes,
        commit,
        fingerprint: canonicalJson({ subscription, planKey, endpoint, flow: flow ?? [], concurrency, maxInFlightBytes, commit }),
        startingAt: instant(subscription.startingAt, -Infinity),
        endingAt: instant(subscription.endingAt, Infinity),
      });
    }
  }
  let claims: WebhookClaim[] = [];

  return {
    type: 'webhook',
    specificity: 0,
    accepts: () => false,
    async start(exchange) {
      const table = context.state.webhooks;
      claims = await Promise.all(specs.map((spec) => table.claim({ ...spec, consumer: () => exchange.groupConsumer() })));
    },
    async stop() {
      const releasing = claims;
      claims = [];
      await Promise.all(releasing.map((claim) => claim.release()));
    },
    status: () => ({
      subscriptions: Object.fromEntries(claims.map((claim) => [claim.subscription.name, claim.subscription.status()])),
    }),
  };
};
