import { describe, expect, it } from 'vitest';
import { DIRECTIONS, flow, msg } from './fixtures.ts';
import { checkFlows } from '../../core/policies/check.ts';
import { PolicyConfigError } from '../../core/policies/policy.ts';

describe.each(DIRECTIONS)('message-filter on %s', (direction) => {
  it('keeps matching messages and drops (and counts) the others', () => {
    const { run, counters } = flow(direction, { policy: 'message-filter', condition: '$.amount > 10 && headers.region == "eu"' });
    const kept = msg({ amount: 11 }, { Region: 'eu' });
    expect(run(kept)).toBe(kept);
    expect(run(msg({ amount: 5 }, { region: 'eu' }))).toBeNull();
    expect(run(msg({ amount: 50 }, { region: 'us' }))).toBeNull();
    expect(counters.total('dropped', { policy: 'message-filter', direction })).toBe(2);
  });

  it('content that is not JSON does not match and is counted as a condition error', () => {
    const { run, counters } = flow(direction, { policy: 'message-filter', condition: '$.amount > 10' });
    expect(run(msg('plain text'))).toBeNull();
    expect(counters.total('condition-error')).toBe(1);
    expect(counters.total('dropped')).toBe(1);
  });

  it('filters on metadata and text content', () => {
    const { run } = flow(direction, { policy: 'message-filter', condition: 'metadata.topic == "a" || contains(content, "urgent")' });
    expect(run(msg('x', {}, { topic: 'a' }))).not.toBeNull();
    expect(run(msg('urgent: x', {}, { topic: 'b' }))).not.toBeNull();
    expect(run(msg('x', {}, { topic: 'b' }))).toBeNull();
  });

  it('a disabled filter keeps everything', () => {
    const { run } = flow(direction, { policy: 'message-filter', condition: 'false', enabled: false });
    expect(run(msg({}))).not.toBeNull();
  });
});

describe('message-filter configuration', () => {
  it('a broken condition is refused when the flow is built and by checkFlows', () => {
    const step = { policy: 'message-filter' as const, condition: '$.amount >' };
    expect(() => flow('subscribe', step)).toThrow(PolicyConfigError);
    expect(checkFlows({ flows: { subscribe: [step] } })).toEqual([
      expect.objectContaining({ pointer: '/flows/subscribe/0/condition', code: 'POLICY_INVALID_CONDITION', message: expect.stringMatching(/column 11/) }),
    ]);
  });
});
