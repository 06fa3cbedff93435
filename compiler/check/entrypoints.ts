/**
 * Entrypoints: each type at most once, each finds an endpoint serving its mode, the quality of
 * service it asks for is possible, and a webhook entrypoint has a push plan to deliver to.
 */
import type { Entrypoint } from '../../schemas/types.ts';
import { diagnosticAt, type Diagnostic } from '../diagnostic.ts';
import type { ApiModel } from './model.ts';
import { groups, publishes, resumes, subscribes } from './endpoints.ts';
import { pushes } from '../../core/plans.ts';

/** The modes an entrypoint needs from the endpoints: publish (client -> broker), subscribe (broker -> client). */
export function modesOf(entrypoint: Entrypoint): { publish: boolean; subscribe: boolean } {
  switch (entrypoint.type) {
    case 'http-post':
      return { publish: true, subscribe: false };
    case 'websocket':
      return { publish: entrypoint.publisher !== false, subscribe: entrypoint.subscriber !== false };
    default:
      return { publish: false, subscribe: true };
  }
}

export function checkEntrypoints(model: ApiModel): Diagnostic[] {
  if (!model.api) return [];
  const { file, value } = model.api;
  const out: Diagnostic[] = [];
  const firstIndex = new Map<string, number>();
  const canPublish = value.endpoints.some(publishes);
  const canSubscribe = value.endpoints.some(subscribes);
  const subscriber = value.endpoints.find(subscribes);

  value.entrypoints.forEach((entrypoint, index) => {
    const at = `/entrypoints/${index}`;
    const first = firstIndex.get(entrypoint.type);
    if (first !== undefined) {
      out.push(diagnosticAt(file, `${at}/type`, 'DUPLICATE_ENTRYPOINT', `entrypoint type "${entrypoint.type}" appears twice (also entrypoints[${first}]); each type at most once`));
    } else firstIndex.set(entrypoint.type, index);

    const needs = modesOf(entrypoint);
    if (entrypoint.type === 'websocket' && !needs.publish && !needs.subscribe) {
      out.push(diagnosticAt(file, at, 'ENTRYPOINT_MODE_UNSUPPORTED', 'websocket entrypoint has publisher and subscriber both false: it would do nothing'));
    }
    if (needs.publish && !canPublish) {
      out.push(
        diagnosticAt(file, `${at}/type`, 'ENTRYPOINT_MODE_UNSUPPORTED', `${entrypoint.type} entrypoint publishes, but no endpoint publishes (add an enabled "producer" to an endpoint${entrypoint.type === 'websocket' ? ', or set "publisher": false' : ''})`),
      );
    }
    if (needs.subscribe && !canSubscribe) {
      out.push(
        diagnosticAt(file, `${at}/type`, 'ENTRYPOINT_MODE_UNSUPPORTED', `${entrypoint.type} entrypoint subscribes, but no endpoint subscribes (add an enabled "consumer" to an endpoint${entrypoint.type === 'websocket' ? ', or set "subscriber": false' : ''})`),
      );
    }
    if ((entrypoint.type === 'http-get' || entrypoint.type === 'sse') && entrypoint.qos === 'at-least-once' && subscriber && !resumes(subscriber)) {
      out.push(diagnosticAt(file, `${at}/qos`, 'QOS_UNSUPPORTED', `qos at-least-once needs an endpoint that resumes from a cursor (kafka, mock, nats with a stream); the ${subscriber.type} endpoint cannot`));
    }
    const grouping = entrypoint.type === 'webhook' && subscriber ? groups(subscriber) : { ok: true };
    if (!grouping.ok) out.push(diagnosticAt(file, `${at}/type`, grouping.code ?? 'WEBHOOK_ENDPOINT_UNSUPPORTED', grouping.message ?? `the ${subscriber!.type} endpoint cannot serve webhooks`));
    // A plan file that does not parse or validate may be the push plan: its own diagnostic says what is wrong.
    if (entrypoint.type === 'webhook' && model.brokenPlans.size === 0 && ![...model.plans.values()].some((plan) => pushes(plan.value.type))) {
      out.push(diagnosticAt(file, `${at}/type`, 'WEBHOOK_WITHOUT_PUSH_PLAN', 'a webhook entrypoint needs a push plan (plans/<key>.json with "type": "push") whose subscriptions hold the callbacks'));
    }
  });
  return out;
}
