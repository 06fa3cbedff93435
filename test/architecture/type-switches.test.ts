/**
 * What a plan or endpoint type can do is declared once (core/plans.ts, core/connectors.ts) and its
 * implementation is found through the registries; nothing else compares a type with a plan or
 * endpoint type name (`plan.type === 'keyless'`, `endpoint.type === 'kafka'`), so adding a type
 * never needs an edit there. Checked over the source of runtime/, compiler/ and cli/.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENDPOINT_CAPABILITIES } from '../../core/connectors.ts';
import { PLAN_CAPABILITIES } from '../../core/plans.ts';
import { importGraph, ROOT } from './import-graph.ts';

const NAMES = [...Object.keys(PLAN_CAPABILITIES), ...Object.keys(ENDPOINT_CAPABILITIES)];
const quoted = `['"\`](${NAMES.map((name) => name.replace(/[-]/g, '\\-')).join('|')})['"\`]`;
/** `<x>type === 'name'` or `'name' !== <x>.type` (planType too). */
const SWITCH = new RegExp(`(?:[tT]ype\\s*[!=]==?\\s*${quoted})|(?:${quoted}\\s*[!=]==?\\s*[\\w.!?\\[\\]]*[tT]ype\\b)`, 'g');

/** Where naming a type is the point: the registries and a connector's own folder. */
const ALLOWED = [/^runtime\/registry\.ts$/, /^runtime\/[a-z]+\/registry\.ts$/, /^runtime\/endpoints\/[^/]+\//];

export function typeSwitches(file: string, text: string): string[] {
  if (ALLOWED.some((allowed) => allowed.test(file))) return [];
  return [...text.matchAll(SWITCH)].map((match) => `${file}: ${match[0]}`);
}

describe('type switches', () => {
  it('no file of runtime/, compiler/ or cli/ compares a type with a plan or endpoint type name', () => {
    const files = [...importGraph(['runtime', 'compiler', 'cli']).keys()];
    expect(files.length).toBeGreaterThan(50);
    expect(files.flatMap((file) => typeSwitches(file, readFileSync(join(ROOT, file), 'utf8')))).toEqual([]);
  });

  it('catches a switch in either order, and leaves the registries and connector folders alone', () => {
    expect(typeSwitches('runtime/plans/resolution.ts', "if (presenting?.[0]!.type === 'keyless') return;")).toHaveLength(1);
    expect(typeSwitches('compiler/check/endpoints.ts', "} else if (endpoint.type === 'mqtt' && endpoint.consumer) {")).toHaveLength(1);
    expect(typeSwitches('runtime/x.ts', "if ('api-key' !== caller.planType) return;")).toHaveLength(1);
    expect(typeSwitches('runtime/x.ts', "if (error.type === 'UNKNOWN_TOPIC_OR_PARTITION') throw error;")).toEqual([]);
    expect(typeSwitches('runtime/endpoints/kafka/kafka.ts', "if (config.type === 'kafka') return;")).toEqual([]);
    expect(typeSwitches('runtime/plans/registry.ts', "if (plan.type === 'push') return;")).toEqual([]);
  });
});
