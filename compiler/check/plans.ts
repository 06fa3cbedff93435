/**
 * Plans: an open plan (keyless) is refused by the production profile, a jwt plan has the key its
 * algorithm needs, and a pushing plan has a webhook entrypoint to deliver through (which plan types
 * are open or push is declared once in core/plans.ts).
 */
import { diagnosticAt, type Diagnostic } from '../diagnostic.ts';
import type { ApiModel, CheckContext } from './model.ts';
import { isOpen, pushes } from '../../core/plans.ts';

export function checkPlans(model: ApiModel, context: CheckContext): Diagnostic[] {
  const out: Diagnostic[] = [];
  const hasWebhook = model.api?.value.entrypoints.some((entrypoint) => entrypoint.type === 'webhook');
  for (const [key, { file, value: plan }] of model.plans) {
    if (isOpen(plan.type) && context.profile === 'production') {
      out.push(diagnosticAt(file, '/type', 'KEYLESS_IN_PRODUCTION', `${plan.type} plan "${key}" is not allowed with --profile production: use an api-key or jwt plan`));
    }
    if (pushes(plan.type) && model.api && !hasWebhook) {
      out.push(diagnosticAt(file, '/type', 'PUSH_PLAN_WITHOUT_WEBHOOK', `${plan.type} plan "${key}" needs a webhook entrypoint in ${model.id}/api.json ({"type": "webhook"})`));
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
