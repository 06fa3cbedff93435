/**
 * Lifecycle: a started API must be servable (a published or deprecated plan) and an archived API
 * cannot be started.
 */
import { diagnosticAt, type Diagnostic } from '../diagnostic.ts';
import type { ApiModel } from './model.ts';

/** Plans in these states are served. */
export const SERVED_PLAN_STATUSES: ReadonlySet<string> = new Set(['published', 'deprecated']);

export function checkLifecycle(model: ApiModel): Diagnostic[] {
  if (!model.api) return [];
  const { file, value } = model.api;
  const out: Diagnostic[] = [];
  if (value.state === 'started' && value.lifecycle === 'archived') {
    out.push(diagnosticAt(file, '/state', 'ARCHIVED_STARTED', 'an archived API cannot be started: set "state": "stopped"'));
  }
  const served = [...model.plans.values()].some((plan) => SERVED_PLAN_STATUSES.has(plan.value.status ?? 'staging'));
  if (value.state === 'started' && !served && model.brokenPlans.size === 0) {
    const keys = [...model.plans.keys()];
    out.push(
      diagnosticAt(
        file,
        '/state',
        'STARTED_WITHOUT_PLAN',
        `a started API needs at least one published or deprecated plan in ${model.id}/plans/${keys.length ? ` (found ${keys.map((k) => `${k}.json`).join(', ')}, none published)` : ' (there is none)'}`,
      ),
    );
  }
  return out;
}

/** `replacedBy` names another API of the same folder (the catalog links to it). */
export function checkReplacements(models: readonly ApiModel[]): Diagnostic[] {
  const ids = new Set(models.map((model) => model.id));
  const out: Diagnostic[] = [];
  for (const model of models) {
    const replacement = model.api?.value.replacedBy;
    if (replacement === undefined) continue;
    if (replacement === model.id || !ids.has(replacement)) {
      const why = replacement === model.id ? 'the API itself' : `no API folder ${replacement}/ in the APIs folder`;
      out.push(diagnosticAt(model.api!.file, '/replacedBy', 'REPLACED_BY_UNKNOWN', `replacedBy "${replacement}" names ${why}: give the id (folder name) of the API that replaces this one`));
    }
  }
  return out;
}
