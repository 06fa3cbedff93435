import { describe, expect, it } from 'vitest';
import { checkFlows } from '../../core/policies/check.ts';
import { PolicyConfigError } from '../../core/policies/policy.ts';
import { body, DIRECTIONS, flow, msg } from './fixtures.ts';

const order = { id: 1, customer: { id: 'c1', email: 'a@b.c', name: 'Ann' }, items: [{ sku: 'a' }, { sku: 'b' }], secret: 's' };

describe.each(DIRECTIONS)('transform on %s', (direction) => {
  it('pick keeps only the listed paths, with their nesting', () => {
    const { run } = flow(direction, { policy: 'transform', pick: ['id', 'customer.id', 'items.1', 'absent.path'] });
    expect(body(run(msg(order)))).toEqual({ id: 1, customer: { id: 'c1' }, items: [null, { sku: 'b' }] });
  });

  it('applies pick, rename, set, remove in that order', () => {
    const { run } = flow(direction, {
      policy: 'transform',
      pick: ['id', 'customer', 'items'],
      rename: { 'customer.name': 'customerName', id: 'orderId' },
      set: { 'meta.source': 'sluice', 'meta.tags': ['x'], version: 2 },
      remove: ['customer.email', 'items.0'],
    });
    expect(body(run(msg(order)))).toEqual({
      orderId: 1, customer: { id: 'c1' }, customerName: 'Ann', items: [{ sku: 'b' }], meta: { source: 'sluice', tags: ['x'] }, version: 2,
    });
  });

  it('rename of an absent path does nothing; set replaces scalars on the way', () => {
    const { run } = flow(direction, { policy: 'transform', rename: { nope: 'yes' }, set: { 'id.value': 1 } });
    expect(body(run(msg({ id: 5 })))).toEqual({ id: { value: 1 } });
  });

  it('set values are copied per message (one message cannot change the next)', () => {
    const { run } = flow(direction, { policy: 'transform', set: { meta: { n: 1 } } });
    const first = body(run(msg({}))) as { meta: { n: number } };
    first.meta.n = 99;
    expect(body(run(msg({})))).toEqual({ meta: { n: 1 } });
  });

  it('content that is not a JSON object or array is left as is and counted', () => {
    const { run, counters } = flow(direction, { policy: 'transform', remove: ['a'] });
    for (const content of ['plain text', '42', '"str"', '{broken']) {
      const input = msg(content);
      expect(run(input)).toBe(input);
    }
    expect(counters.total('not-json', { policy: 'transform', direction })).toBe(4);
  });

  it('never touches the input message and never pollutes prototypes', () => {
    const { run } = flow(direction, { policy: 'transform', set: { x: 1 } });
    const input = msg('{"__proto__": {"polluted": true}, "a": 1}');
    const out = body(run(input)) as Record<string, unknown>;
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(input.content.toString()).toBe('{"__proto__": {"polluted": true}, "a": 1}');
  });

  it('applies only when its condition holds', () => {
    const { run } = flow(direction, { policy: 'transform', remove: ['secret'], condition: 'headers.audience == "public"' });
    expect(body(run(msg(order, { audience: 'public' })))).not.toHaveProperty('secret');
    expect(body(run(msg(order, { audience: 'internal' })))).toHaveProperty('secret');
  });
});

describe('transform configuration', () => {
  const problemsOf = (step: object) => checkFlows({ flows: { subscribe: [step as never] } }).map((p) => [p.pointer, p.code]);

  it.each([
    [{ remove: ['a..b'] }, [['/flows/subscribe/0/remove/0', 'POLICY_INVALID_PATH']]],
    [{ set: { '': 1 } }, [['/flows/subscribe/0/set/', 'POLICY_INVALID_PATH']]],
    [{ pick: ['.a'] }, [['/flows/subscribe/0/pick/0', 'POLICY_INVALID_PATH']]],
    [{ set: { '__proto__.polluted': true } }, [['/flows/subscribe/0/set/__proto__.polluted', 'POLICY_UNSAFE_ACCESS']]],
    [{ rename: { 'a.constructor': 'b' } }, [['/flows/subscribe/0/rename/a.constructor', 'POLICY_UNSAFE_ACCESS']]],
    [{ set: { a: 1, 'a.b': 2 } }, [['/flows/subscribe/0/set/a.b', 'POLICY_CONFLICTING_PATHS']]],
    [{ pick: ['a', 'a.b'] }, [['/flows/subscribe/0/pick/1', 'POLICY_CONFLICTING_PATHS']]],
    [{ set: { 'a.b': 1 }, remove: ['a'] }, [['/flows/subscribe/0/remove/0', 'POLICY_CONFLICTING_PATHS']]],
    [{ rename: { a: 'b', b: 'c' } }, [['/flows/subscribe/0/rename/b', 'POLICY_CONFLICTING_PATHS']]],
    [{ rename: { a: 'x', b: 'x' } }, [['/flows/subscribe/0/rename/b', 'POLICY_CONFLICTING_PATHS']]],
    [{ rename: { a: 'x' }, set: { 'x.y': 1 } }, [['/flows/subscribe/0/set/x.y', 'POLICY_CONFLICTING_PATHS']]],
    [{ pick: ['a'], rename: { b: 'c' } }, [['/flows/subscribe/0/rename/b', 'POLICY_CONFLICTING_PATHS']]],
    [{}, [['/flows/subscribe/0', 'POLICY_EMPTY_STEP']]],
    [{ pick: ['a'], rename: { 'a.b': 'c' }, set: { d: 1 }, remove: ['a.z'] }, []],
  ])('%j', (config, expected) => {
    expect(problemsOf({ policy: 'transform', ...config })).toEqual(expected);
  });

  it('the runtime refuses what the compiler refuses', () => {
    expect(() => flow('publish', { policy: 'transform', set: { '__proto__.x': 1 } })).toThrow(PolicyConfigError);
  });
});
