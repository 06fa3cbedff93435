import { describe, expect, it } from 'vitest';
import { message } from '../../core/message.ts';
import {
  checkExpression, compileCondition, compileExpression, EXPRESSION_LIMITS, ExpressionError,
} from '../../core/policies/expression.ts';

const json = (value: unknown, headers: Record<string, string> = {}, metadata: Record<string, string | number | boolean | null> = {}) =>
  message({ id: '7', content: Buffer.from(JSON.stringify(value)), headers, metadata, timestamp: 1000 });
const text = (content: string) => message({ id: '8', content: Buffer.from(content) });

function evaluate(source: string, msg = json({})): { value: unknown; errors: Error[] } {
  const errors: Error[] = [];
  const value = compileExpression(source, { onError: (e) => errors.push(e) })(msg);
  return { value, errors };
}

function refused(source: string): ExpressionError {
  const error = checkExpression(source);
  expect(error, `expected "${source}" to be refused`).toBeInstanceOf(ExpressionError);
  return error!;
}

describe('expression language: values', () => {
  const order = json(
    { amount: 42, kind: 'order', items: [{ sku: 'a' }, { sku: 'b' }], 'x-y': true, nested: { deep: { n: 1 } }, tags: ['eu', 'vip'] },
    { Region: 'eu', 'X-Trace-Id': 'abc' },
    { topic: 'orders', partition: 3 },
  );

  it.each([
    ['$.amount > 10', true],
    ['$.amount > 100', false],
    ['$.amount == "42"', true],
    ['$.amount === "42"', false],
    ['$.amount === 42', true],
    ['$.kind != "order"', false],
    ['$.items[0].sku', 'a'],
    ['$.items[1]["sku"]', 'b'],
    ['$.items.length', 2],
    ['$["x-y"]', true],
    ['$.nested.deep.n + 1', 2],
    ['$?.nested?.deep?.n', 1],
    ['$.missing', undefined],
    ['$.missing.deeper', undefined],
    ['$.missing > 3', false],
    ['headers.region', 'eu'],
    ['headers.REGION', 'eu'],
    ['headers["x-trace-id"]', 'abc'],
    ['headers.absent', undefined],
    ['"region" in headers', true],
    ['metadata.topic == "orders" && metadata.partition >= 3', true],
    ['"vip" in $.tags', true],
    ['"asia" in $.tags', false],
    ['"amount" in $', true],
    ['"ord" in $.kind', true],
    ['headers.region in ["eu", "us"]', true],
    ['!($.amount < 10) || false', true],
    ['$.amount % 5', 2],
    ['$.amount / 2 - 1', 20],
    ['-$.amount', -42],
    ['"id-" + $.amount', 'id-42'],
    ['$.missing ?? "default"', 'default'],
    ['$.amount > 40 ? "big" : "small"', 'big'],
    ['contains($.kind, "rd")', true],
    ['contains($.tags, "eu")', true],
    ['startsWith(headers["x-trace-id"], "ab")', true],
    ['endsWith($.kind, "der")', true],
    ['matches($.kind, /^ORD/i)', true],
    ['matches($.kind, "^x")', false],
    ['length($.items)', 2],
    ['length($.kind)', 5],
    ['length($)', 6],
    ['lower(headers.region) == "eu" && upper($.kind) == "ORDER"', true],
    ['exists($.amount) && !exists($.nope)', true],
    ['number(metadata.partition) + 1', 4],
    ['id == "7" && timestamp == 1000', true],
    ['$.amount >= 42 && $.amount <= 42', true],
    ['"b" > "a"', true],
    ['"10" > 9', true],
    ['null == $.missing', true],
  ])('%s', (source, expected) => {
    const { value, errors } = evaluate(source, order);
    expect(value).toEqual(expected);
    expect(errors).toEqual([]);
  });

  it('reads text content and a JSON scalar', () => {
    expect(evaluate('contains(content, "hello")', text('say hello')).value).toBe(true);
    expect(evaluate('$ == 5', text('5')).value).toBe(true);
  });

  it('content that is not JSON makes `$` fail: undefined, counted, never thrown', () => {
    const { value, errors } = evaluate('$.amount > 10', text('not json'));
    expect(value).toBeUndefined();
    expect(errors).toHaveLength(1);
    expect(errors[0].message).toMatch(/not JSON/);
    expect(compileCondition('$.amount > 10')(text('not json'))).toBe(false);
  });

  it('arithmetic on non-numbers fails the evaluation instead of producing NaN', () => {
    const { value, errors } = evaluate('$.kind * 2', json({ kind: 'x' }));
    expect(value).toBeUndefined();
    expect(errors).toHaveLength(1);
  });

  it('a condition is true when truthy', () => {
    expect(compileCondition('$.kind')(json({ kind: 'x' }))).toBe(true);
    expect(compileCondition('$.kind')(json({ kind: '' }))).toBe(false);
  });
});

describe('expression language: refused at compile time with a column', () => {
  it.each([
    ['$.amount >', 'POLICY_INVALID_CONDITION', 11],
    ['$.a == = 1', 'POLICY_INVALID_CONDITION', 8],
    ['($.a', 'POLICY_INVALID_CONDITION', 5],
    ['$.a $.b', 'POLICY_INVALID_CONDITION', 1],
    ['process.exit(1)', 'POLICY_INVALID_CONDITION', 1],
    ['$.a && foo > 1', 'POLICY_INVALID_CONDITION', 8],
    ['eval("1")', 'POLICY_INVALID_CONDITION', 1],
    ['$.kind.toUpperCase()', 'POLICY_INVALID_CONDITION', 19],
    ['contains($.a)', 'POLICY_INVALID_CONDITION', 1],
    ['this.x', 'POLICY_INVALID_CONDITION', 1],
    ['$.a | 1', 'POLICY_INVALID_CONDITION', 5],
    ['~$.a', 'POLICY_INVALID_CONDITION', 1],
    ['/abc/.test(content)', 'POLICY_INVALID_CONDITION', 1],
    ['matches(content, $.pattern)', 'POLICY_INVALID_CONDITION', 1],
    ['matches(content, /a/g)', 'POLICY_INVALID_CONDITION', 18],
    ['matches(content, /(a)\\1/)', 'UNSAFE_REGEX', 18],
    ['matches(content, "(?=x)x")', 'UNSAFE_REGEX', 18],
    ['matches(content, /[/)', 'POLICY_INVALID_CONDITION', 22],
    ['', 'POLICY_INVALID_CONDITION', 1],
    ['constructor.constructor("return process")()', 'POLICY_UNSAFE_ACCESS', 1],
    ['$.constructor.constructor("return process")()', 'POLICY_UNSAFE_ACCESS', 3],
    ['$.__proto__', 'POLICY_UNSAFE_ACCESS', 3],
    ['$["__proto__"].polluted', 'POLICY_UNSAFE_ACCESS', 4],
    ['headers.constructor', 'POLICY_UNSAFE_ACCESS', 9],
    ['$.a.prototype', 'POLICY_UNSAFE_ACCESS', 5],
    ['contains.constructor', 'POLICY_UNSAFE_ACCESS', 10],
  ])('%s -> %s at column %i', (source, code, column) => {
    const error = refused(source);
    expect(error.code).toBe(code);
    expect(error.column).toBe(column);
    expect(error.message).toContain(`column ${column}`);
  });

  it('bounds the size of an expression', () => {
    expect(refused('1' + ' + 1'.repeat(EXPRESSION_LIMITS.sourceLength)).message).toMatch(/longer than/);
    expect(refused('$.a' + ' && $.a'.repeat(200)).message).toMatch(/more than \d+ parts|nests deeper/);
    expect(refused('!'.repeat(100) + '1').message).toMatch(/nests deeper/);
    expect(evaluate('('.repeat(1000) + '1' + ')'.repeat(1000)).value).toBe(1); // groups add no depth
    expect(refused(`matches(content, "${'a'.repeat(EXPRESSION_LIMITS.patternLength + 1)}")`).message).toMatch(/longer than/);
  });
});

describe('expression language: escape attempts evaluate safely', () => {
  it('computed unsafe keys read as undefined and never reach the prototype', () => {
    const msg = json({ key: '__proto__', ctor: 'constructor', o: {} });
    expect(evaluate('$[$.key]', msg).value).toBeUndefined();
    expect(evaluate('$.o[$.ctor]', msg).value).toBeUndefined();
    expect(evaluate('$[$.ctor][$.ctor]', msg).value).toBeUndefined();
    expect(evaluate('length($[$.key])', msg).value).toBeUndefined();
  });

  it('an own "__proto__" key in the JSON is data, not a prototype', () => {
    const msg = message({ id: '1', content: Buffer.from('{"__proto__": {"admin": true}, "a": 1}') });
    expect(evaluate('$.admin', msg).value).toBeUndefined();
    expect(evaluate('"admin" in $', msg).value).toBe(false);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it('inherited members of strings and arrays are not reachable', () => {
    const msg = json({ s: 'abc', a: [1], m: 'toString' });
    expect(evaluate('$.s[$.m]', msg).value).toBeUndefined();
    expect(evaluate('$.a[$.m]', msg).value).toBeUndefined();
    expect(evaluate('$.a["map"]', msg).value).toBeUndefined();
    expect(evaluate('$.s[1]', msg).value).toBe('b');
  });

  it('huge inputs stay bounded: long strings, deep JSON, big content', () => {
    const big = 'x'.repeat(EXPRESSION_LIMITS.stringLength);
    const { value, errors } = evaluate('content + content', text(big));
    expect(value).toBeUndefined();
    expect(errors[0].message).toMatch(/too long/);
    const deep = message({ id: '1', content: Buffer.from('['.repeat(200_000) + ']'.repeat(200_000)) });
    const deepResult = evaluate('length($) > 0', deep);
    expect(deepResult.errors.length + (deepResult.value === true ? 1 : 0)).toBe(1);
    expect(evaluate('matches(content, /^x+$/)', text('x'.repeat(EXPRESSION_LIMITS.stringLength + 1))).errors).toHaveLength(1);
    const started = performance.now();
    expect(evaluate('matches(content, /^(a|b)c/)', text('a'.repeat(100_000))).value).toBe(false);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('nested repeats run on RE2 and stay linear; lookaround and backreferences are refused', () => {
    for (const nested of ['(a+)+$', '(a*)*$', '((ab)+)*$', '(a{2,})+$', '(?:x+y)*$', '(a+){2,}$', '(a|aa)*$']) {
      const started = performance.now();
      expect(evaluate(`matches(content, /^${nested.slice(0, -1)}$/)`, text(`${'a'.repeat(5_000)}!`)).value, nested).toBe(false);
      expect(performance.now() - started, nested).toBeLessThan(1000);
    }
    for (const refused of ['(a)\\1', '(?<x>a)\\k<x>', '(?=a)', '(?!a)b', '(?<=a)b', '(?<!a)b']) {
      expect(checkExpression(`matches(content, /${refused}/)`)?.code, refused).toBe('UNSAFE_REGEX');
    }
  });

  it('an expression is compiled once and evaluates many messages without re-parsing', () => {
    const condition = compileCondition('$.n % 2 == 0');
    let even = 0;
    for (let n = 0; n < 1000; n++) if (condition(json({ n }))) even++;
    expect(even).toBe(500);
  });
});
