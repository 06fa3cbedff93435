/**
 * Plans: an open plan (keyless) is refused by the production profile, a pushing plan has a webhook
 * entrypoint to deliver through, and each plan's own rules hold (a jwt plan has the key its
 * algorithm needs). Which plan types are open or push, and their rules, are declared once in core/plans.ts.
 */
import { diagnosticAt, type Diagnostic } from '../diagnostic.ts';
import type { ApiModel, CheckContext } from './model.ts';
import { isOpen, planProblems, pushes } from '../../core/plans.ts';

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
    for (const problem of planProblems(plan)) out.push(diagnosticAt(file, problem.at, problem.code, problem.message));
  }
  return out;
}
