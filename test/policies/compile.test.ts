/**
 * Bad policy configuration is a compile error with file:line:col, through the real compiler
 * (compileTree runs read -> validate -> check, and check calls core/policies/check.ts).
 */
import { describe, expect, it } from 'vitest';
import { compileTree } from '../../compiler/index.ts';
import { POLICY_CODES } from '../../core/policies/check.ts';
import { compileFlow } from '../../core/policies/flow.ts';
import { msg } from './fixtures.ts';

const source = { kind: 'folder', path: 'test' } as never;

const plan = JSON.stringify({ name: 'Open', type: 'keyless', status: 'published' }, null, 2);

function tree(flows: object) {
  const api = {
    name: 'Policies fixture',
    state: 'started',
    contextPaths: ['/fixture'],
    entrypoints: [{ type: 'http-get' }, { type: 'http-post' }],
    endpoints: [{ type: 'mock' }],
    flows,
  };
  return [
    { path: 'fixture/api.json', text: JSON.stringify(api, null, 2) },
    { path: 'fixture/plans/open.json', text: plan },
  ];
}

/** 1-based line and column of the first occurrence of `needle` in `text`. */
function position(text: string, needle: string): { line: number; column: number } {
  const index = text.indexOf(needle);
  if (index < 0) throw new Error(`"${needle}" not in the fixture`);
  const before = text.slice(0, index).split('\n');
  return { line: before.length, column: before[before.length - 1].length + 1 };
}

describe('policy configuration through compileTree', () => {
  it('a valid flow compiles and the bundle carries it', () => {
    const flows = {
      publish: [{ policy: 'json-validate', schema: { type: 'object', required: ['id'] } }, { policy: 'max-size', maxBytes: 1024 }],
      subscribe: [{ policy: 'message-filter', condition: '$.amount > 10' }, { policy: 'transform', remove: ['secret'] }],
    };
    const { bundle, diagnostics } = compileTree(tree(flows), { source });
    expect(diagnostics).toEqual([]);
    const compiled = bundle!.apis.fixture.definition.flows!;
    expect(compiled.subscribe).toHaveLength(2);
    const run = compileFlow(compiled.subscribe, 'subscribe');
    expect(run(msg({ amount: 5 }))).toBeNull();
    expect(JSON.parse(run(msg({ amount: 50, secret: 'x' }))!.content.toString())).toEqual({ amount: 50 });
  });

  it('every broken step is reported, each at its own line and column', () => {
    const text = `{
  "name": "Policies fixture",
  "state": "started",
  "contextPaths": ["/fixture"],
  "entrypoints": [{ "type": "http-get" }, { "type": "http-post" }],
  "endpoints": [{ "type": "mock" }],
  "flows": {
    "publish": [
      { "policy": "json-validate", "schema": { "type": "object", "minimun": 1 } },
      { "policy": "transform", "set": { "a.b": 1, "a": 2 } }
    ],
    "subscribe": [
      { "policy": "message-filter", "condition": "$.amount >" },
      { "policy": "headers", "set": { "X-A": "1" }, "condition": "$.constructor.constructor(\\"return process\\")()" },
      { "policy": "transform", "remove": ["a..b"] }
    ]
  }
}`;
    const { bundle, diagnostics } = compileTree([{ path: 'fixture/api.json', text }, tree({})[1]], { source });
    expect(bundle).toBeUndefined();
    const at = (code: string, needle: string) => ({ file: 'fixture/api.json', code, ...position(text, needle) });
    expect(diagnostics.map(({ file, code, line, column }) => ({ file, code, line, column }))).toEqual([
      at('POLICY_INVALID_SCHEMA', '{ "type": "object", "minimun"'),
      at('POLICY_CONFLICTING_PATHS', '2 } }'),
      at('POLICY_INVALID_CONDITION', '"$.amount >"'),
      at('POLICY_UNSAFE_ACCESS', '"$.constructor'),
      at('POLICY_INVALID_PATH', '"a..b"'),
    ]);
    expect(diagnostics.map((d) => d.line)).toEqual([9, 10, 13, 14, 15]);
    const condition = diagnostics.find((d) => d.code === 'POLICY_INVALID_CONDITION')!;
    expect(condition.pointer).toBe('/flows/subscribe/0/condition');
    expect(condition.message).toMatch(/subscribe\[0\] message-filter: condition: syntax error: .* \(column 11\)/);
    for (const d of diagnostics) expect(POLICY_CODES, `${d.code} is listed in POLICY_CODES`).toHaveProperty(d.code);
  });

  it('a disabled step is still checked (enabling it later must not break a deploy)', () => {
    const { diagnostics } = compileTree(tree({ subscribe: [{ policy: 'message-filter', enabled: false, condition: 'foo(' }] }), { source });
    expect(diagnostics.map((d) => d.code)).toEqual(['POLICY_INVALID_CONDITION']);
  });
});
