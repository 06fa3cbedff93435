/**
 * The layout's import rules (docs/reference/architecture.md), checked over the real import graph:
 *   core/ imports only core/ and schemas/; compiler/ and runtime/ never import each other (nor cli/);
 *   nothing outside test/ imports test/, except bench/ from test/support/; no import cycles;
 *   a connector's folder (runtime/endpoints/<type>/) is imported only by its own files and the
 *   endpoint registry (the rest of runtime/ reaches it through the Endpoint interface); entrypoints
 *   never build endpoints (runtime/endpoints/registry.ts): they get them from the exchange.
 */
import { describe, expect, it } from 'vitest';
import { cycles, importGraph, importsOf, type ImportGraph } from './import-graph.ts';

type Rule = (from: string, to: string) => string | undefined;

const top = (path: string): string => path.split('/')[0];
/** `runtime/endpoints/<type>/` of a path inside a connector's folder, else undefined. */
const connector = (path: string): string | undefined => /^runtime\/endpoints\/[^/]+\//.exec(path)?.[0];

const RULES: Rule[] = [
  (from, to) => (top(from) === 'core' && !['core', 'schemas'].includes(top(to)) ? 'core/ imports only core/ and schemas/' : undefined),
  (from, to) => (top(from) === 'schemas' && top(to) !== 'schemas' ? 'schemas/ imports nothing of ours' : undefined),
  (from, to) => (top(from) === 'compiler' && ['runtime', 'cli'].includes(top(to)) ? `compiler/ never imports ${top(to)}/` : undefined),
  (from, to) => (top(from) === 'runtime' && ['compiler', 'cli'].includes(top(to)) ? `runtime/ never imports ${top(to)}/` : undefined),
  (from, to) =>
    top(to) === 'test' && top(from) !== 'test' && !(top(from) === 'bench' && to.startsWith('test/support/'))
      ? 'only tests import test/ (bench/ only test/support/)'
      : undefined,
  (from, to) => {
    const folder = connector(to);
    return folder && top(from) === 'runtime' && connector(from) !== folder && from !== 'runtime/endpoints/registry.ts'
      ? `only runtime/endpoints/registry.ts imports a connector's folder (${folder}); use the Endpoint interface`
      : undefined;
  },
  (from, to) =>
    from.startsWith('runtime/entrypoints/') && to === 'runtime/endpoints/registry.ts'
      ? 'entrypoints never build endpoints: they get them (and consumers) from the exchange'
      : undefined,
];

function violations(graph: ImportGraph): string[] {
  const found: string[] = [];
  for (const [from, targets] of graph) {
    for (const to of targets) {
      for (const rule of RULES) {
        const broken = rule(from, to);
        if (broken) found.push(`${from} -> ${to}: ${broken}`);
      }
    }
  }
  return found;
}

describe('import rules', () => {
  const graph = importGraph();

  it('sees the whole tree', () => {
    expect(graph.has('runtime/gateway.ts')).toBe(true);
    expect(graph.has('cli/main.ts')).toBe(true);
    expect(graph.get('cli/main.ts')).toContain('cli/serve.ts');
  });

  it('holds for the repository', () => {
    expect(violations(graph)).toEqual([]);
  });

  it('has no import cycles (type-only imports included)', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('catches each kind of violation (a planted graph)', () => {
    const planted: ImportGraph = new Map([
      ['compiler/check/flows.ts', importsOf('compiler/check/flows.ts', "import { checkFlows } from '../../runtime/policies/check.ts';")],
      ['runtime/sources/store.ts', importsOf('runtime/sources/store.ts', "import type { X } from '../../compiler/store.ts';")],
      ['runtime/x.ts', ['cli/args.ts']],
      ['core/message.ts', importsOf('core/message.ts', "export { log } from '../runtime/log.ts';")],
      ['cli/main.ts', importsOf('cli/main.ts', "const m = () => import('../test/support/harness.ts');")],
      ['bench/run.ts', ['test/support/brokers/kafka-broker.ts', 'test/runtime/fanout.test.ts']],
      ['runtime/subscribe/resume-handover.ts', importsOf('runtime/subscribe/resume-handover.ts', "import { decodeCursor } from '../endpoints/kafka/cursor.ts';")],
      ['runtime/endpoints/registry.ts', ['runtime/endpoints/kafka/kafka.ts']],
      ['runtime/entrypoints/webhook/subscription.ts', ['runtime/endpoints/registry.ts', 'runtime/endpoints/endpoint.ts']],
      ['runtime/endpoints/kafka/kafka.ts', ['runtime/endpoints/kafka/cursor.ts', 'runtime/endpoints/endpoint.ts']],
    ]);
    expect(violations(planted)).toEqual([
      'compiler/check/flows.ts -> runtime/policies/check.ts: compiler/ never imports runtime/',
      'runtime/sources/store.ts -> compiler/store.ts: runtime/ never imports compiler/',
      'runtime/x.ts -> cli/args.ts: runtime/ never imports cli/',
      'core/message.ts -> runtime/log.ts: core/ imports only core/ and schemas/',
      'cli/main.ts -> test/support/harness.ts: only tests import test/ (bench/ only test/support/)',
      'bench/run.ts -> test/runtime/fanout.test.ts: only tests import test/ (bench/ only test/support/)',
      "runtime/subscribe/resume-handover.ts -> runtime/endpoints/kafka/cursor.ts: only runtime/endpoints/registry.ts imports a connector's folder (runtime/endpoints/kafka/); use the Endpoint interface",
      'runtime/entrypoints/webhook/subscription.ts -> runtime/endpoints/registry.ts: entrypoints never build endpoints: they get them (and consumers) from the exchange',
    ]);
    const loop: ImportGraph = new Map([
      ['runtime/a.ts', ['runtime/b.ts']],
      ['runtime/b.ts', ['runtime/c.ts']],
      ['runtime/c.ts', ['runtime/a.ts', 'runtime/d.ts']],
      ['runtime/d.ts', []],
    ]);
    expect(cycles(loop)).toEqual([['runtime/a.ts', 'runtime/b.ts', 'runtime/c.ts']]);
  });
});
