import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../core/errors.ts';
import { noPolicyCounters, MemoryPolicyCounters } from '../../core/policies/counters.ts';
import { noMeters, Telemetry } from '../../runtime/metrics/telemetry.ts';
import { compileFlow } from '../../core/policies/flow.ts';
import { PolicyConfigError } from '../../core/policies/policy.ts';
import { body, flow, msg } from './fixtures.ts';

describe('compileFlow', () => {
  it('no steps: messages pass through', () => {
    const input = msg('x');
    expect(compileFlow(undefined, 'subscribe')(input)).toBe(input);
    expect(compileFlow([], 'publish')(input)).toBe(input);
  });

  it('composes steps in order: each sees the previous step\'s message', () => {
    const { run } = flow('subscribe',
      { policy: 'transform', set: { stage: 1 } },
      { policy: 'message-filter', condition: '$.stage == 1' },
      { policy: 'headers', set: { 'X-Stage': 'done' }, condition: '$.stage == 1' },
    );
    const out = run(msg({}))!;
    expect(body(out)).toEqual({ stage: 1 });
    expect(out.headers).toEqual({ 'X-Stage': 'done' });
  });

  it('short-circuits on a drop: later steps never run', () => {
    const { run, counters } = flow('publish',
      { policy: 'message-filter', condition: 'false' },
      { policy: 'max-size', maxBytes: 1 },
    );
    expect(run(msg('much too large'))).toBeNull(); // max-size would have thrown 413
    expect(counters.total('refused')).toBe(0);
    expect(counters.snapshot()).toEqual({ 'publish/0/message-filter/dropped': 1 });
  });

  it('a disabled step is skipped, even a broken-but-valid one', () => {
    const { run } = flow('publish', { policy: 'max-size', maxBytes: 1, enabled: false });
    expect(run(msg('long enough'))).not.toBeNull();
  });

  it('a step condition that cannot be evaluated is false: the step is skipped and the error counted', () => {
    const { run, counters } = flow('publish', { policy: 'max-size', maxBytes: 1, condition: '$.big == true' });
    expect(run(msg('not json at all'))).not.toBeNull();
    expect(counters.snapshot()).toEqual({ 'publish/0/max-size/condition-error': 1 });
  });

  it('publish errors propagate as GatewayErrors', () => {
    const { run } = flow('publish', { policy: 'transform', set: { a: 1 } }, { policy: 'max-size', maxBytes: 4 });
    expect(() => run(msg({}))).toThrow(GatewayError);
  });

  it('bad configuration fails the build with the step position', () => {
    let error: unknown;
    try {
      flow('subscribe', { policy: 'headers', set: { a: '1' } }, { policy: 'headers', set: { a: '2' }, condition: '$.x ==' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PolicyConfigError);
    expect((error as PolicyConfigError).problems).toEqual([
      expect.objectContaining({ path: '/subscribe/1/condition', code: 'POLICY_INVALID_CONDITION' }),
    ]);
  });

  it('counters come from the meters a gateway telemetry is built with (as the exchange reads them)', () => {
    expect(new Telemetry().policyCountersFor('any')).toBe(noPolicyCounters);
    const counters = new MemoryPolicyCounters();
    const telemetry = new Telemetry({ ...noMeters, policyCountersFor: (apiId) => (apiId === 'orders' ? counters : noPolicyCounters) });
    compileFlow([{ policy: 'message-filter', condition: 'false' }], 'subscribe', { counters: telemetry.policyCountersFor('orders') })(msg('x'));
    expect(counters.total('dropped')).toBe(1);
    expect(telemetry.policyCountersFor('other')).toBe(noPolicyCounters);
  });
});
