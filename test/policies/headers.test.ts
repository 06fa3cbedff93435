import { describe, expect, it } from 'vitest';
import { checkFlows } from '../../core/policies/check.ts';
import { DIRECTIONS, flow, msg } from './fixtures.ts';

describe.each(DIRECTIONS)('headers on %s', (direction) => {
  it('removes case-insensitively, then sets (replacing any spelling)', () => {
    const { run } = flow(direction, { policy: 'headers', remove: ['X-Secret'], set: { 'X-Env': 'prod', Region: 'eu' } });
    const input = msg('x', { 'x-secret': 's', 'x-env': 'dev', REGION: 'us', Keep: 'k' });
    const out = run(input)!;
    expect(out.headers).toEqual({ Keep: 'k', 'X-Env': 'prod', Region: 'eu' });
    expect(input.headers['x-secret']).toBe('s'); // the input message is untouched
    expect(out.content).toBe(input.content);
    expect(Object.isFrozen(out) && Object.isFrozen(out.headers)).toBe(true);
  });

  it('applies only when its condition holds', () => {
    const { run } = flow(direction, { policy: 'headers', set: { 'X-Big': 'yes' }, condition: '$.amount > 100' });
    expect(run(msg({ amount: 101 }))!.headers).toEqual({ 'X-Big': 'yes' });
    expect(run(msg({ amount: 1 }))!.headers).toEqual({});
  });

  it('a header named __proto__ stays a plain header', () => {
    const { run } = flow(direction, { policy: 'headers', set: { a: '1' } });
    const input = msg('x', JSON.parse('{"__proto__": "p"}'));
    const out = run(input)!;
    expect(Object.getPrototypeOf(out.headers)).toBe(Object.prototype);
    expect(Object.keys(out.headers).sort()).toEqual(['__proto__', 'a']);
  });
});

describe('headers configuration', () => {
  it('refuses invalid names, line breaks, duplicate spellings and empty steps', () => {
    const problems = checkFlows({
      flows: {
        publish: [
          { policy: 'headers', set: { 'bad name': 'x', ok: 'a\r\nInjected: 1', 'X-A': '1', 'x-a': '2' }, remove: ['no:colon'] },
          { policy: 'headers' },
        ],
      },
    });
    expect(problems.map((p) => [p.pointer, p.code])).toEqual([
      ['/flows/publish/0/set/bad name', 'POLICY_INVALID_HEADER'],
      ['/flows/publish/0/set/ok', 'POLICY_INVALID_HEADER'],
      ['/flows/publish/0/set/x-a', 'POLICY_CONFLICTING_PATHS'],
      ['/flows/publish/0/remove/0', 'POLICY_INVALID_HEADER'],
      ['/flows/publish/1', 'POLICY_EMPTY_STEP'],
    ]);
    expect(() => flow('publish', { policy: 'headers', set: { ok: 'a\nb' } })).toThrow(/POLICY_INVALID_HEADER at \/publish\/0\/set\/ok/);
  });
});
