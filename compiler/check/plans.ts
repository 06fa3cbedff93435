/**
 * Plans: keyless is refused by the production profile, a jwt plan has the key its algorithm
 * needs, and a push plan has a webhook entrypoint to deliver through.
 */
import { diagnosticAt, type Diagnostic } from '../diagnostic.ts';
import type { ApiModel, CheckContext } from './model.ts';

export function checkPlans(model: ApiModel, context: CheckContext): Diagnostic[] {
  const out: Diagnostic[] = [];
  const hasWebhook = model.api?.value.entrypoints.some((entrypoint) => entrypoint.type === 'webhook');
  for (const [key, { file, value: plan }] of model.plans) {
    if (plan.type === 'keyless' && context.profile === 'production') {
      out.push(diagnosticAt(file, '/type', 'KEYLESS_IN_PRODUCTION', `keyless plan "${key}" is not allowed with --profile production: use an api-key or jwt plan`));
    }
    if (plan.type === 'push' && model.api && !hasWebhook) {
      out.push(diagnosticAt(file, '/type', 'PUSH_PLAN_WITHOUT_WEBHOOK', `push plan "${key}" needs a webhook entrypoint in ${model.id}/api.json ({"type": "webhook"})`));
    }
    if (plan.type === 'jwt') {
      const hmac = plan.signature.startsWith('HS');
      const asymmetricKeys = [plan.publicKey !== undefined && 'publicKey', plan.jwksUrl !== undefined && 'jwksUrl'].filter(Boolean);
      if (hmac && plan.secret === undefined) {
        out.push(diagnosticAt(file, '/signature', 'JWT_KEY_MISSING', `${plan.signature} needs "secret": {"env": "NAME"} (the shared HMAC key, by reference)`));
      }
      if (!hmac && asymmetricKeys.length === 0) {
        out.push(diagnosticAt(file, '/signature', 'JWT_KEY_MISSING', `${plan.signature} needs "publicKey" (PEM) or "jwksUrl"`));
      }
      if (hmac && asymmetricKeys.length > 0) {
        out.push(diagnosticAt(file, `/${asymmetricKeys[0]}`, 'JWT_KEY_CONFLICT', `${plan.signature} is verified with "secret"; ${asymmetricKeys.join(' and ')} belong to RS/ES/PS algorithms`));
      }
      if (!hmac && plan.secret !== undefined) {
        out.push(diagnosticAt(file, '/secret', 'JWT_KEY_CONFLICT', `${plan.signature} is verified with "publicKey" or "jwksUrl"; "secret" belongs to HS algorithms`));
      }
      if (!hmac && asymmetricKeys.length === 2) {
        out.push(diagnosticAt(file, '/jwksUrl', 'JWT_KEY_CONFLICT', 'give "publicKey" or "jwksUrl", not both'));
      }
    }
  }
  return out;
}
