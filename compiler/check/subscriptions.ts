/**
 * Subscriptions: each names an existing plan of its API that takes subscriptions, holds the
 * credential that plan needs (api-key: hashes, jwt: clientId, push: webhook), and no key hash or
 * client id is claimed twice.
 *
 * A deprecated plan keeps its existing subscriptions (it is still served); refusing *new* ones
 * needs the previous release and is a release rule, not a rule of one tree.
 */
import type { Subscription } from '../../schemas/types.ts';
import { planCapabilities, SUBSCRIPTION_CREDENTIALS } from '../../core/plans.ts';
import { diagnosticAt, type Diagnostic } from '../diagnostic.ts';
import type { ApiModel, Located } from './model.ts';

/** A SHA-256 in lowercase hex, as `sluice keygen` prints it. */
export const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Subscription states that claim the plan (a closed or rejected one may stay on a closed plan). */
const LIVE = new Set(['accepted', 'pending', 'paused']);

export function checkSubscriptions(model: ApiModel): Diagnostic[] {
  const out: Diagnostic[] = [];
  const hashes = new Map<string, string>();
  const clientIds = new Map<string, string>();
  for (const [name, subscription] of model.subscriptions) {
    const { file, value } = subscription;
    value.apiKeys?.forEach((key, index) => {
      if (!SHA256_HEX.test(key.hash)) {
        out.push(
          diagnosticAt(file, `/apiKeys/${index}/hash`, 'API_KEY_NOT_HASH', 'apiKeys hash must be the SHA-256 of the key (64 lowercase hex digits), never the key itself; `npx sluice keygen` prints both'),
        );
      } else if (hashes.has(key.hash)) {
        out.push(diagnosticAt(file, `/apiKeys/${index}/hash`, 'DUPLICATE_API_KEY', `this key hash is already held by subscription "${hashes.get(key.hash)}"`));
      } else hashes.set(key.hash, name);
    });
    if (value.startingAt && value.endingAt && Date.parse(value.startingAt) >= Date.parse(value.endingAt)) {
      out.push(diagnosticAt(file, '/endingAt', 'SUBSCRIPTION_WINDOW_EMPTY', `endingAt (${value.endingAt}) must be after startingAt (${value.startingAt})`));
    }
    out.push(...checkWebhookAuth(subscription));

    if (model.brokenPlans.has(value.plan)) continue;
    const plan = model.plans.get(value.plan);
    if (!plan) {
      const known = [...model.plans.keys()];
      out.push(
        diagnosticAt(file, '/plan', 'SUBSCRIPTION_UNKNOWN_PLAN', `plan "${value.plan}" does not exist in ${model.id}/plans/${known.length ? ` (plans: ${known.join(', ')})` : ''}`),
      );
      continue;
    }
    const status = plan.value.status ?? 'staging';
    const live = LIVE.has(value.status ?? 'accepted');
    const needed = planCapabilities(plan.value.type)?.subscriptionCredential;
    if (!needed) {
      out.push(diagnosticAt(file, '/plan', 'SUBSCRIPTION_PLAN_NOT_SUBSCRIBABLE', `plan "${value.plan}" is ${plan.value.type}: ${plan.value.type} plans take no subscriptions`));
      continue;
    }
    if (live && (status === 'staging' || status === 'closed')) {
      out.push(
        diagnosticAt(
          file,
          '/plan',
          'SUBSCRIPTION_PLAN_NOT_SUBSCRIBABLE',
          `plan "${value.plan}" is ${status} and takes no subscriptions${status === 'closed' ? ' (set this subscription\'s status to "closed")' : ' (publish the plan first)'}`,
        ),
      );
    }
    if (value[needed] === undefined) {
      out.push(diagnosticAt(file, '', 'SUBSCRIPTION_CREDENTIAL_MISMATCH', `plan "${value.plan}" is ${plan.value.type}: the subscription needs "${needed}"${needed === 'apiKeys' ? ' (hashes from `npx sluice keygen`)' : ''}`));
    }
    for (const other of SUBSCRIPTION_CREDENTIALS) {
      if (other !== needed && value[other] !== undefined) {
        out.push(diagnosticAt(file, `/${other}`, 'SUBSCRIPTION_CREDENTIAL_MISMATCH', `"${other}" does not belong to a subscription of the ${plan.value.type} plan "${value.plan}" (it needs "${needed}")`, 'key'));
      }
    }
    if (needed === 'clientId' && value.clientId !== undefined && live) {
      const claimKey = `${value.plan}\0${value.clientId}`;
      const holder = clientIds.get(claimKey);
      if (holder) out.push(diagnosticAt(file, '/clientId', 'DUPLICATE_CLIENT_ID', `client id "${value.clientId}" is already held by subscription "${holder}" of plan "${value.plan}"`));
      else clientIds.set(claimKey, name);
    }
  }
  return out;
}

function checkWebhookAuth({ file, value }: Located<Subscription>): Diagnostic[] {
  const auth = value.webhook?.auth;
  if (!auth) return [];
  if (auth.type === 'basic' && (auth.username === undefined || auth.password === undefined)) {
    return [diagnosticAt(file, '/webhook/auth', 'WEBHOOK_AUTH_INCOMPLETE', 'basic auth needs "username" and "password": {"env": "NAME"}')];
  }
  if (auth.type === 'bearer' && auth.token === undefined) {
    return [diagnosticAt(file, '/webhook/auth', 'WEBHOOK_AUTH_INCOMPLETE', 'bearer auth needs "token": {"env": "NAME"}')];
  }
  return [];
}
