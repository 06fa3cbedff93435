/**
 * Release rules: the "danger zone" of a gateway console, as compile-time rules checked against the
 * previous release (the store's `current`, or the ref given to `sluice validate --against`).
 *
 * - An API may disappear only if, in the previous release, it was stopped and had no published plans.
 * - A plan may disappear only if it was closed in the previous release.
 * - Lifecycles only move forward: an API `deprecated` may only become `archived`; `archived` is
 *   final. A plan `deprecated` may only become `closed`; `closed` is final.
 * - An archived API cannot be started: the compiler's own ARCHIVED_STARTED check (every compile).
 * - No new subscriptions (a new file, or an existing one moved to another plan) to a deprecated
 *   plan, or to any plan of a deprecated or archived API.
 *
 * Contract: pure; `previous` and `next` are compiled bundles (defaults filled), `files` the source
 * files of `next` (to point at lines). Every violation is one Diagnostic naming the file of `next`
 * (the file that disappeared, for removals: line 1) and the release it conflicts with.
 */
import type { Api, Bundle, BundleApi, Plan } from '../schemas/types.ts';
import type { ReleaseRules } from './check.ts';
import { diagnosticForFile, sortDiagnostics, type Diagnostic } from './diagnostic.ts';
import { parseJson, type ParsedFile, type SourceFile } from './source.ts';

/** The release `next` is checked against, for messages. */
export interface PreviousRelease {
  /** Tag of the release; absent when comparing against a plain commit. */
  tag?: string;
  /** Deployment number in the store; absent when not known (validate --against a git ref). */
  deployment?: number;
  /** The ref or commit, used when there is no tag. */
  ref?: string;
}

export const RELEASE_RULE_CODES = {
  apiRemoved: 'RELEASE_API_REMOVED',
  planRemoved: 'RELEASE_PLAN_REMOVED',
  apiLifecycle: 'RELEASE_API_LIFECYCLE_TERMINAL',
  planStatus: 'RELEASE_PLAN_STATUS_TERMINAL',
  deprecatedSubscription: 'RELEASE_SUBSCRIPTION_TO_DEPRECATED',
} as const;

/** "release v3, deployment 7", "release v3", or "ref 1a2b3c4". */
export function describeRelease(release: PreviousRelease): string {
  if (release.tag) return `release ${release.tag}${release.deployment !== undefined ? `, deployment ${release.deployment}` : ''}`;
  if (release.deployment !== undefined) return `deployment ${release.deployment}`;
  return `ref ${release.ref ?? '(unknown)'}`;
}

/**
 * Check `next` against the previous release (`undefined`: the first release, nothing to check).
 * Used under the store's lock when releasing; `files` are `next`'s sources, to point at lines.
 */
export function checkReleaseRules(
  previous: Bundle | undefined,
  next: Bundle,
  options: { release: PreviousRelease; files?: readonly SourceFile[] },
): Diagnostic[] {
  if (!previous) return [];
  return sortDiagnostics(runRules(previous.apis, next.apis, options.release, fileLocator(options.files ?? [])));
}

/** The same rules as a compiler hook: `compileTree(files, { previous, releaseRules: releaseRules(info) })`. */
export function releaseRules(release: PreviousRelease): ReleaseRules {
  return ({ apis, previous, at }) => runRules(previous.apis, apis, release, at);
}

type Locate = (file: string, pointer: string, code: string, message: string) => Diagnostic;

function runRules(previous: Record<string, BundleApi>, next: Record<string, BundleApi>, release: PreviousRelease, locate: Locate): Diagnostic[] {
  const against = describeRelease(release);
  const out: Diagnostic[] = [];
  const at: At = (file, pointer, code, message) => out.push(locate(file, pointer, code, `${message} (conflicts with ${against})`));
  for (const [id, before] of Object.entries(previous)) {
    const after = next[id];
    if (!after) {
      const published = Object.entries(before.plans).filter(([, p]) => statusOf(p) === 'published').map(([k]) => k);
      const started = stateOf(before.definition) === 'started';
      if (started || published.length > 0) {
        const why = [started ? 'it was started' : '', published.length ? `${started ? '' : 'it '}had published plans (${published.join(', ')})` : ''].filter(Boolean).join(' and ');
        at(`${id}/api.json`, '', RELEASE_RULE_CODES.apiRemoved,
          `API "${id}" was removed, but in the previous release ${why}; first release it stopped with no published plans, then remove it`);
      }
      continue;
    }
    checkApiLifecycle(id, before, after, at);
    checkPlans(id, before, after, at);
  }
  for (const [id, after] of Object.entries(next)) checkNewSubscriptions(id, previous[id], after, at);
  return out;
}

type At = (file: string, pointer: string, code: string, message: string) => void;


function checkApiLifecycle(id: string, before: BundleApi, after: BundleApi, at: At): void {
  const from = lifecycleOf(before.definition);
  const to = lifecycleOf(after.definition);
  if (from === to) return;
  if (from === 'deprecated' && to !== 'archived') {
    at(`${id}/api.json`, '/lifecycle', RELEASE_RULE_CODES.apiLifecycle, `API "${id}" is deprecated in the previous release and deprecated is terminal: it cannot become "${to}" (only "archived")`);
  } else if (from === 'archived') {
    at(`${id}/api.json`, '/lifecycle', RELEASE_RULE_CODES.apiLifecycle, `API "${id}" is archived in the previous release and archived is terminal: it cannot become "${to}"`);
  }
}

function checkPlans(id: string, before: BundleApi, after: BundleApi, at: At): void {
  for (const [key, plan] of Object.entries(before.plans)) {
    const file = `${id}/plans/${key}.json`;
    const now = after.plans[key];
    const from = statusOf(plan);
    if (!now) {
      if (from !== 'closed') {
        at(file, '', RELEASE_RULE_CODES.planRemoved, `plan "${key}" of API "${id}" was removed, but it is ${from} in the previous release; release it closed first, then remove it`);
      }
      continue;
    }
    const to = statusOf(now);
    if (from === to) continue;
    if (from === 'deprecated' && to !== 'closed') {
      at(file, '/status', RELEASE_RULE_CODES.planStatus, `plan "${key}" of API "${id}" is deprecated in the previous release and deprecated is terminal: it cannot become "${to}" (only "closed")`);
    } else if (from === 'closed') {
      at(file, '/status', RELEASE_RULE_CODES.planStatus, `plan "${key}" of API "${id}" is closed in the previous release and cannot be reopened as "${to}"; create a new plan instead`);
    }
  }
}

function checkNewSubscriptions(id: string, before: BundleApi | undefined, after: BundleApi, at: At): void {
  const apiLifecycle = lifecycleOf(after.definition);
  for (const [name, subscription] of Object.entries(after.subscriptions)) {
    const old = before?.subscriptions[name];
    if (old && old.plan === subscription.plan) continue; // not new
    const plan = after.plans[subscription.plan];
    const file = `${id}/subscriptions/${name}.json`;
    const what = old ? `subscription "${name}" moved to plan "${subscription.plan}"` : `new subscription "${name}" to plan "${subscription.plan}"`;
    if (apiLifecycle === 'deprecated' || apiLifecycle === 'archived') {
      at(file, '/plan', RELEASE_RULE_CODES.deprecatedSubscription, `${what}: API "${id}" is ${apiLifecycle} and accepts no new subscriptions`);
    } else if (plan && statusOf(plan) === 'deprecated') {
      at(file, '/plan', RELEASE_RULE_CODES.deprecatedSubscription, `${what}: the plan is deprecated and accepts no new subscriptions`);
    }
  }
}

const stateOf = (api: Api) => api.state ?? 'started';
const lifecycleOf = (api: Api) => api.lifecycle ?? 'unpublished';
const statusOf = (plan: Plan) => plan.status ?? 'staging';

/** Build diagnostics at real positions in `files` (parsed lazily, once each); missing files: line 1. */
function fileLocator(files: readonly SourceFile[]): Locate {
  const texts = new Map(files.map((f) => [f.path, f.text]));
  const parsed = new Map<string, ParsedFile | null>();
  return (path: string, pointer: string, code: string, message: string): Diagnostic => {
    if (!parsed.has(path)) {
      const text = texts.get(path);
      const result = text === undefined ? undefined : parseJson(path, text);
      parsed.set(path, result && result.ok ? result.file : null);
    }
    const file = parsed.get(path);
    if (!file) return { ...diagnosticForFile(path, code, message), pointer };
    const { line, column } = file.locate(pointer, 'value');
    return { file: path, line, column, pointer, code, message };
  };
}
