import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../core/errors.ts';
import { checkFlows } from '../../core/policies/check.ts';
import { PolicyConfigError } from '../../core/policies/policy.ts';
import { flow, msg } from './fixtures.ts';

const schema = {
  type: 'object',
  required: ['amount'],
  properties: { amount: { type: 'number', minimum: 0 }, email: { type: 'string', format: 'email' }, lines: { type: 'array', items: { $ref: '#/$defs/line' } } },
  $defs: { line: { type: 'object', required: ['sku'] } },
};

function thrown(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error('expected a GatewayError');
}

describe('json-validate', () => {
  it('publish: a valid message passes unchanged', () => {
    const { run } = flow('publish', { policy: 'json-validate', schema });
    const input = msg({ amount: 3, email: 'a@example.com', lines: [{ sku: 'x' }] });
    expect(run(input)).toBe(input);
  });

  it('publish: a failure is 400 MESSAGE_INVALID with the first error path and message', () => {
    const { run, counters } = flow('publish', { policy: 'json-validate', schema });
    expect(thrown(() => run(msg({ amount: -1 })))).toMatchObject({
      status: 400, code: 'MESSAGE_INVALID', closeCode: 1008, message: 'The message does not match the schema: /amount must be >= 0.',
    });
    expect(thrown(() => run(msg({ amount: 1, lines: [{}] }))).message).toMatch(/\/lines\/0 must have required property 'sku'/);
    expect(thrown(() => run(msg({ amount: 1, email: 'nope' }))).message).toMatch(/\/email must match format "email"/);
    expect(thrown(() => run(msg({}))).message).toMatch(/: \/ must have required property 'amount'/);
    expect(thrown(() => run(msg('not json'))).message).toBe('The message content is not valid JSON.');
    expect(counters.total('refused', { policy: 'json-validate' })).toBe(5);
  });

  it('subscribe: a failure is dropped and counted', () => {
    const { run, counters } = flow('subscribe', { policy: 'json-validate', schema });
    expect(run(msg({ amount: 'many' }))).toBeNull();
    expect(run(msg('<xml/>'))).toBeNull();
    expect(run(msg({ amount: 1 }))).not.toBeNull();
    expect(counters.total('dropped', { policy: 'json-validate', direction: 'subscribe' })).toBe(2);
  });

  it('a condition limits validation to some messages', () => {
    const { run } = flow('publish', { policy: 'json-validate', schema, condition: 'headers["content-type"] == "application/json"' });
    expect(run(msg('free text', { 'Content-Type': 'text/plain' }))).not.toBeNull();
    expect(() => run(msg('free text', { 'Content-Type': 'application/json' }))).toThrow(GatewayError);
  });

  it('steps with the same $id in one API and across builds do not collide', () => {
    const withId = { $id: 'https://example.com/order', type: 'object' };
    for (let i = 0; i < 3; i++) {
      const { run } = flow('subscribe', { policy: 'json-validate', schema: withId }, { policy: 'json-validate', schema: { ...withId, required: ['a'] } });
      expect(run(msg({ a: 1 }))).not.toBeNull();
      expect(run(msg({}))).toBeNull();
    }
  });

  it('an invalid schema is refused at compile time and when built', () => {
    const bad = [
      { type: 'nope' },
      { type: 'object', minimun: 3 },
      { $ref: 'https://example.com/elsewhere.json' },
      { properties: { a: { $ref: '#/$defs/missing' } } },
      { type: 'string', format: 'emial' },
      { type: 'string', pattern: '(' },
    ];
    const problems = checkFlows({ flows: { publish: bad.map((s) => ({ policy: 'json-validate' as const, schema: s })) } });
    expect(problems.map((p) => [p.pointer, p.code])).toEqual(bad.map((_, i) => [`/flows/publish/${i}/schema`, 'POLICY_INVALID_SCHEMA']));
    expect(problems[1].message).toMatch(/unknown keyword: "minimun"/);
    expect(() => flow('publish', { policy: 'json-validate', schema: { type: 'nope' } })).toThrow(PolicyConfigError);
  });
});
