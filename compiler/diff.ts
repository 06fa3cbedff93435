/**
 * What deploying bundle B over bundle A changes, API by API and field by field, with the dangerous
 * changes flagged. Longer than ~300 lines because it holds the three output formats (human,
 * markdown for a pull-request comment, json for tools) beside the one model they print.
 *
 * Contract: `diffBundles` is pure and deterministic (APIs, plans and fields in sorted order).
 * Field paths read like the files: `state`, `entrypoints.websocket.publisher`, `plans.gold.status`,
 * `flows.subscribe[0].condition`. Entrypoints and endpoints are keyed by `type` (each type appears
 * at most once per API; a repeated endpoint type gets `#2`), plans by key, subscriptions by name.
 */
import type { Api, Bundle, BundleApi, BundleSource, Plan, Subscription } from '../schemas/types.ts';
import { isOpen } from '../core/plans.ts';

export type ChangeKind = 'added' | 'removed' | 'changed';
export type Section =
  | 'definition' | 'contextPaths' | 'state' | 'lifecycle' | 'visibility' | 'entrypoints' | 'endpoints'
  | 'flows' | 'cors' | 'fanout' | 'plans' | 'subscriptions';

export interface FieldChange {
  section: Section;
  path: string;
  kind: ChangeKind;
  before?: unknown;
  after?: unknown;
}

export type DangerCode =
  | 'STARTED_API_REMOVED'
  | 'STARTED_API_STOPPED'
  | 'PLAN_CLOSED_WITH_SUBSCRIPTIONS'
  | 'PLAN_REMOVED_WITH_SUBSCRIPTIONS'
  | 'KEYLESS_PLAN_ADDED'
  | 'KEYLESS_PLAN_PUBLISHED'
  | 'CONTEXT_PATH_CHANGED';

export interface Danger {
  code: DangerCode;
  api: string;
  plan?: string;
  message: string;
}

export interface ApiDiff {
  id: string;
  status: 'added' | 'removed' | 'changed' | 'unchanged';
  changes: FieldChange[];
  dangers: Danger[];
}

export interface DiffSide {
  /** What the user named: a tag, a ref, "current". */
  label: string;
  bundleId: string;
  source: BundleSource;
}

export interface BundleDiff {
  from: DiffSide;
  to: DiffSide;
  /** Every API of either bundle, sorted by id. */
  apis: ApiDiff[];
  dangers: Danger[];
  summary: { added: number; removed: number; changed: number; unchanged: number };
}

/** Diff `from` (what is deployed, or A) to `to` (what would be deployed, B). */
export function diffBundles(from: Bundle, to: Bundle, labels: { from?: string; to?: string } = {}): BundleDiff {
  const ids = [...new Set([...Object.keys(from.apis), ...Object.keys(to.apis)])].sort();
  const apis = ids.map((id) => diffApi(id, from.apis[id], to.apis[id]));
  const summary = { added: 0, removed: 0, changed: 0, unchanged: 0 };
  for (const api of apis) summary[api.status] += 1;
  return {
    from: side(from, labels.from),
    to: side(to, labels.to),
    apis,
    dangers: apis.flatMap((a) => a.dangers),
    summary,
  };
}

function side(bundle: Bundle, label?: string): DiffSide {
  const s = bundle.source;
  return { label: label ?? s.tag ?? s.ref ?? s.path ?? bundle.id.slice(0, 12), bundleId: bundle.id, source: s };
}

function diffApi(id: string, before: BundleApi | undefined, after: BundleApi | undefined): ApiDiff {
  const changes: FieldChange[] = [];
  const a = before?.definition;
  const b = after?.definition;
  for (const key of ['name', 'description', 'version', 'labels', 'state', 'lifecycle', 'visibility'] as const) {
    const section: Section = key === 'state' || key === 'lifecycle' || key === 'visibility' ? key : 'definition';
    diffValue(section, key, a?.[key], b?.[key], changes);
  }
  if (!sameSet(a?.contextPaths, b?.contextPaths)) diffLeaf('contextPaths', 'contextPaths', a?.contextPaths, b?.contextPaths, changes);
  diffKeyed('entrypoints', byType(a?.entrypoints), byType(b?.entrypoints), changes);
  diffKeyed('endpoints', byType(a?.endpoints), byType(b?.endpoints), changes);
  diffValue('flows', 'flows', a?.flows, b?.flows, changes);
  diffValue('cors', 'cors', a?.cors, b?.cors, changes);
  diffValue('fanout', 'fanout', a?.fanout, b?.fanout, changes);
  diffKeyed('plans', before?.plans, after?.plans, changes);
  diffKeyed('subscriptions', before?.subscriptions, after?.subscriptions, changes);
  const status = !before ? 'added' : !after ? 'removed' : changes.length ? 'changed' : 'unchanged';
  return { id, status, changes, dangers: dangersOf(id, before, after) };
}

function dangersOf(id: string, before: BundleApi | undefined, after: BundleApi | undefined): Danger[] {
  const out: Danger[] = [];
  const a = before?.definition;
  const b = after?.definition;
  if (a && stateOf(a) === 'started') {
    if (!b) out.push({ code: 'STARTED_API_REMOVED', api: id, message: `API "${id}" is started and is removed: its clients get 404 and open connections close` });
    else if (stateOf(b) === 'stopped') out.push({ code: 'STARTED_API_STOPPED', api: id, message: `API "${id}" is stopped: its clients get 404 and open connections close` });
  }
  if (a && b && !sameSet(a.contextPaths, b.contextPaths)) {
    out.push({ code: 'CONTEXT_PATH_CHANGED', api: id, message: `API "${id}" moves from ${a.contextPaths.join(', ')} to ${b.contextPaths.join(', ')}: clients on the old path get 404` });
  }
  if (before && after) {
    for (const [key, plan] of Object.entries(before.plans)) {
      const live = liveSubscriptions(before.subscriptions, key);
      if (live === 0) continue;
      const now = after.plans[key];
      const subs = `${live} subscription${live === 1 ? '' : 's'}`;
      if (!now) out.push({ code: 'PLAN_REMOVED_WITH_SUBSCRIPTIONS', api: id, plan: key, message: `plan "${key}" of API "${id}" is removed while it has ${subs}` });
      else if (statusOf(now) === 'closed' && statusOf(plan) !== 'closed') {
        out.push({ code: 'PLAN_CLOSED_WITH_SUBSCRIPTIONS', api: id, plan: key, message: `plan "${key}" of API "${id}" is closed while it has ${subs}: they stop working` });
      }
    }
  }
  for (const [key, plan] of Object.entries(after?.plans ?? {})) {
    if (!isOpen(plan.type)) continue;
    const old = before?.plans[key];
    if (!old || !isOpen(old.type)) {
      const when = served(plan) ? 'anyone may call the API' : 'anyone may call the API once it is published';
      out.push({ code: 'KEYLESS_PLAN_ADDED', api: id, plan: key, message: `keyless plan "${key}" added to API "${id}" (${statusOf(plan)}): ${when}` });
    } else if (!served(old) && served(plan)) {
      out.push({ code: 'KEYLESS_PLAN_PUBLISHED', api: id, plan: key, message: `keyless plan "${key}" of API "${id}" becomes ${statusOf(plan)}: anyone may call the API` });
    }
  }
  return out;
}

const stateOf = (api: Api) => api.state ?? 'started';
const statusOf = (plan: Plan) => plan.status ?? 'staging';
const served = (plan: Plan) => statusOf(plan) === 'published' || statusOf(plan) === 'deprecated';

function liveSubscriptions(subscriptions: Record<string, Subscription>, plan: string): number {
  return Object.values(subscriptions).filter((s) => s.plan === plan && s.status !== 'closed' && s.status !== 'rejected').length;
}

function byType<T extends { type: string }>(list: readonly T[] | undefined): Record<string, T> | undefined {
  if (!list) return undefined;
  const out: Record<string, T> = {};
  for (const item of list) {
    let key = item.type;
    for (let n = 2; key in out; n++) key = `${item.type}#${n}`;
    out[key] = item;
  }
  return out;
}

function diffKeyed(section: Section, a: Record<string, unknown> | undefined, b: Record<string, unknown> | undefined, out: FieldChange[]): void {
  const keys = [...new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})])].sort();
  for (const key of keys) diffValue(section, `${section}.${key}`, a?.[key], b?.[key], out);
}

function diffValue(section: Section, path: string, a: unknown, b: unknown, out: FieldChange[]): void {
  if (deepEqual(a, b)) return;
  if (a === undefined || b === undefined) return diffLeaf(section, path, a, b, out);
  if (isObject(a) && isObject(b)) {
    for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      diffValue(section, `${path}.${key}`, a[key], b[key], out);
    }
    return;
  }
  if (Array.isArray(a) && Array.isArray(b) && (a.some(isObject) || b.some(isObject))) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) diffValue(section, `${path}[${i}]`, a[i], b[i], out);
    return;
  }
  diffLeaf(section, path, a, b, out);
}

function diffLeaf(section: Section, path: string, a: unknown, b: unknown, out: FieldChange[]): void {
  const kind: ChangeKind = a === undefined ? 'added' : b === undefined ? 'removed' : 'changed';
  out.push({ section, path, kind, ...(a !== undefined ? { before: a } : {}), ...(b !== undefined ? { after: b } : {}) });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
}

function sameSet(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (!a || !b) return a === b;
  if (a.length !== b.length) return false;
  const sortedB = [...b].sort();
  return [...a].sort().every((v, i) => v === sortedB[i]);
}

// ---------------------------------------------------------------------------------------------
// Formats

export type DiffFormat = 'human' | 'markdown' | 'json';

export function formatDiff(diff: BundleDiff, format: DiffFormat): string {
  if (format === 'json') return `${JSON.stringify(diff, null, 2)}\n`;
  return format === 'markdown' ? markdown(diff) : human(diff);
}

const MAX_VALUE_CHARS = 160;

function show(value: unknown): string {
  if (value === undefined) return '';
  const text = JSON.stringify(value);
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS - 1)}…` : text;
}

function sideText(s: DiffSide): string {
  const commit = s.source.commit ? `${s.source.commit.slice(0, 7)}, ` : '';
  return `${s.label} (${commit}bundle ${s.bundleId.slice(0, 12)})`;
}

function summaryText(d: BundleDiff): string {
  const { added, removed, changed, unchanged } = d.summary;
  return `${changed} changed, ${added} added, ${removed} removed, ${unchanged} unchanged`;
}

function human(d: BundleDiff): string {
  const lines = [`sluice diff: ${sideText(d.from)} -> ${sideText(d.to)}`, summaryText(d)];
  if (d.from.bundleId === d.to.bundleId) lines.push('', 'identical bundles: deploying B over A changes nothing');
  if (d.dangers.length) {
    lines.push('', `! ${d.dangers.length} dangerous change${d.dangers.length === 1 ? '' : 's'}:`);
    for (const x of d.dangers) lines.push(`  ! ${x.code}  ${x.message}`);
  }
  const mark = { added: '+', removed: '-', changed: '~', unchanged: ' ' } as const;
  for (const api of d.apis.filter((a) => a.status !== 'unchanged')) {
    lines.push('', `${mark[api.status]} ${api.id}${api.status === 'changed' ? '' : ` (${api.status})`}`);
    if (api.status === 'removed') {
      lines.push(`    was: ${removedSummary(api)}`);
      continue;
    }
    for (const c of api.changes) {
      if (c.kind === 'changed') lines.push(`    ${c.path}: ${show(c.before)} -> ${show(c.after)}`);
      else lines.push(`    ${c.kind === 'added' ? '+' : '-'} ${c.path}: ${show(c.kind === 'added' ? c.after : c.before)}`);
    }
  }
  const same = d.apis.filter((a) => a.status === 'unchanged').map((a) => a.id);
  if (same.length) lines.push('', `unchanged: ${same.join(', ')}`);
  return `${lines.join('\n')}\n`;
}

/** One line for a removed API (the JSON format keeps every removed field). */
function removedSummary(api: ApiDiff): string {
  const was = (path: string) => api.changes.find((c) => c.path === path)?.before;
  const plans = api.changes.filter((c) => /^plans\.[^.]+$/.test(c.path)).map((c) => c.path.slice('plans.'.length));
  return `${show(was('state'))}, ${show(was('lifecycle'))}, on ${((was('contextPaths') as string[] | undefined) ?? []).join(' ')}, plans: ${plans.join(', ') || 'none'}`;
}

/** A code span safe inside a GitHub table cell. */
function code(text: string): string {
  const cell = text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
  return cell.includes('`') ? `\`\` ${cell} \`\`` : `\`${cell}\``;
}

function markdown(d: BundleDiff): string {
  const lines = [
    `### Sluice diff: ${code(d.from.label)} → ${code(d.to.label)}`,
    '',
    `**${summaryText(d)}** · bundle ${code(d.from.bundleId.slice(0, 12))} → ${code(d.to.bundleId.slice(0, 12))}`,
  ];
  if (d.from.bundleId === d.to.bundleId) lines.push('', 'Identical bundles: deploying this changes nothing.');
  if (d.dangers.length) {
    lines.push('', '> [!WARNING]', `> **${d.dangers.length} dangerous change${d.dangers.length === 1 ? '' : 's'}**`);
    for (const x of d.dangers) lines.push(`> - ${code(x.code)} ${x.message.replace(/([*_<>[\]])/g, '\\$1')}`);
  }
  const title = { added: 'added', removed: 'removed', changed: 'changed', unchanged: '' } as const;
  for (const api of d.apis.filter((a) => a.status !== 'unchanged')) {
    if (api.status === 'removed') {
      lines.push('', `#### ${code(api.id)} — removed`, '', `It was: ${removedSummary(api).replace(/([*_<>[\]|])/g, '\\$1')}.`);
      continue;
    }
    lines.push('', `#### ${code(api.id)} — ${title[api.status]}`, '', '| field | before | after |', '| --- | --- | --- |');
    for (const c of api.changes) {
      lines.push(`| ${code(c.path)} | ${c.before === undefined ? '' : code(show(c.before))} | ${c.after === undefined ? '' : code(show(c.after))} |`);
    }
  }
  const same = d.apis.filter((a) => a.status === 'unchanged').map((a) => a.id);
  if (same.length) lines.push('', `<details><summary>${same.length} unchanged</summary>`, '', same.map(code).join(', '), '', '</details>');
  return `${lines.join('\n')}\n`;
}
