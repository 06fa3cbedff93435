/**
 * The value semantics of the expression language (see expression.ts): equality, ordering, arithmetic,
 * member access on plain data, the function table and the regex safety rules. Nothing here ever calls
 * a user-reachable method (valueOf, toString, getters): only primitives and own data properties of
 * plain objects and arrays are read.
 */
import { compileRegex, type DefinitionRegex } from '../regex.ts';
import { isPlainObject, UNSAFE_PROPERTIES } from './content.ts';

/** Bounds that keep an expression and its evaluation cheap. */
export const EXPRESSION_LIMITS = Object.freeze({
  /** Characters in one expression. */
  sourceLength: 2048,
  /** AST nodes in one expression. */
  nodes: 256,
  /** Nesting depth of the AST. */
  depth: 32,
  /** Characters in a `matches` pattern. */
  patternLength: 256,
  /** Longest string `+` may build and `matches` may scan (characters). */
  stringLength: 1 << 20,
});

/** Thrown inside an evaluation; the compiled closure catches it, counts it and yields undefined. */
export class EvaluationFailure extends Error {}

export type Primitive = string | number | boolean | null | undefined;

/** Reads `object[key]` only when it is an own data entry of plain data; anything else is undefined. */
export function memberOf(object: unknown, key: unknown): unknown {
  if (typeof key === 'number') {
    if (!Number.isInteger(key) || key < 0) return undefined;
    if (typeof object === 'string' || Array.isArray(object)) return key < object.length ? object[key] : undefined;
    key = String(key);
  }
  if (typeof key !== 'string' || UNSAFE_PROPERTIES.has(key)) return undefined;
  if (typeof object === 'string' || Array.isArray(object)) {
    if (key === 'length') return object.length;
    return /^(0|[1-9]\d{0,8})$/.test(key) ? memberOf(object, Number(key)) : undefined;
  }
  if (isPlainObject(object) && Object.hasOwn(object, key)) {
    const descriptor = Object.getOwnPropertyDescriptor(object, key);
    return descriptor && 'value' in descriptor ? descriptor.value : undefined;
  }
  return undefined;
}

/** Case-insensitive header lookup; `lowerName` is already lower case. */
export function headerOf(headers: Readonly<Record<string, string>>, name: string, lowerName: string): unknown {
  if (Object.hasOwn(headers, name)) return memberOf(headers, name);
  for (const key of Object.keys(headers)) if (key.toLowerCase() === lowerName) return memberOf(headers, key);
  return undefined;
}

/** The headers as one plain object with lower-case names (for bare `headers`, `in headers`, `length(headers)`). */
export function lowerCaseHeaders(headers: Readonly<Record<string, string>>): Record<string, unknown> {
  const out: Record<string, unknown> = Object.create(null);
  for (const key of Object.keys(headers)) out[key.toLowerCase()] = memberOf(headers, key);
  return out;
}

function numericString(value: string): number | undefined {
  if (value.trim() === '') return undefined;
  const n = Number(value);
  return Number.isNaN(n) ? undefined : n;
}

/** `==`: strict equality, plus null == undefined and number == numeric string ("10" == 10). */
export function looseEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a == null || b == null) return a == null && b == null;
  if (typeof a === 'number' && typeof b === 'string') return numericString(b) === a;
  if (typeof a === 'string' && typeof b === 'number') return numericString(a) === b;
  return false;
}

/** `< <= > >=`: numbers with numbers (or numeric strings), strings with strings; anything else is false. */
export function compare(op: string, a: unknown, b: unknown): boolean {
  let x: number | string | undefined;
  let y: number | string | undefined;
  if (typeof a === 'string' && typeof b === 'string') [x, y] = [a, b];
  else {
    x = typeof a === 'number' ? a : typeof a === 'string' ? numericString(a) : undefined;
    y = typeof b === 'number' ? b : typeof b === 'string' ? numericString(b) : undefined;
    if (x === undefined || y === undefined) return false;
  }
  switch (op) {
    case '<': return x < y;
    case '<=': return x <= y;
    case '>': return x > y;
    default: return x >= y;
  }
}

/** Number from a number, numeric string or boolean; anything else fails the evaluation. */
export function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string') {
    const n = numericString(value);
    if (n !== undefined) return n;
  }
  throw new EvaluationFailure(`not a number: ${describe(value)}`);
}

function isScalar(value: unknown): value is string | number | boolean | null {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}

export function arithmetic(op: string, a: unknown, b: unknown): number | string {
  if (op === '+') {
    if (typeof a === 'number' && typeof b === 'number') return a + b;
    if ((typeof a === 'string' || typeof b === 'string') && isScalar(a) && isScalar(b)) {
      const sa = String(a), sb = String(b);
      if (sa.length + sb.length > EXPRESSION_LIMITS.stringLength) throw new EvaluationFailure('string too long');
      return sa + sb;
    }
  }
  const x = toNumber(a), y = toNumber(b);
  switch (op) {
    case '+': return x + y;
    case '-': return x - y;
    case '*': return x * y;
    case '/': return x / y;
    default: return x % y;
  }
}

/** `a in b`: element of an array, substring of a string, own key of an object. */
export function contains(container: unknown, item: unknown): boolean {
  if (typeof container === 'string') return typeof item === 'string' && container.includes(item);
  if (Array.isArray(container)) return container.some((element) => looseEquals(element, item));
  if (isPlainObject(container)) return typeof item === 'string' && memberOf(container, item) !== undefined;
  return false;
}

export function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? (value === null ? 'null' : 'an object') : `${typeof value} ${JSON.stringify(value)?.slice(0, 40)}`;
}

/** The functions expressions may call, with their arity. `matches` is compiled specially (pattern once). */
export const FUNCTIONS: Readonly<Record<string, { readonly arity: number; readonly call?: (...args: unknown[]) => unknown }>> = Object.freeze({
  contains: { arity: 2, call: (s, sub) => contains(s, sub) },
  startsWith: { arity: 2, call: (s, p) => typeof s === 'string' && typeof p === 'string' && s.startsWith(p) },
  endsWith: { arity: 2, call: (s, p) => typeof s === 'string' && typeof p === 'string' && s.endsWith(p) },
  length: {
    arity: 1,
    call: (x) => (typeof x === 'string' || Array.isArray(x) ? x.length : isPlainObject(x) ? Object.keys(x).length : undefined),
  },
  lower: { arity: 1, call: (s) => (typeof s === 'string' ? s.toLowerCase() : undefined) },
  upper: { arity: 1, call: (s) => (typeof s === 'string' ? s.toUpperCase() : undefined) },
  exists: { arity: 1, call: (x) => x !== undefined && x !== null },
  number: { arity: 1, call: (x) => toNumber(x) },
  matches: { arity: 2 },
});

const ALLOWED_FLAGS = /^[imsu]*$/;

/**
 * Compiles a `matches` pattern once, on RE2 (core/regex.ts: linear in the subject, so nested
 * quantifiers such as `(a+)+` or `(a|aa)*` are harmless). Throws UnsafeRegexError for syntax RE2
 * cannot run (lookaround, backreferences), an Error for a pattern too long, stateful flags (g, y)
 * or invalid syntax.
 */
export function compilePattern(source: string, flags: string): DefinitionRegex {
  if (source.length > EXPRESSION_LIMITS.patternLength) throw new Error(`the pattern is longer than ${EXPRESSION_LIMITS.patternLength} characters`);
  if (!ALLOWED_FLAGS.test(flags)) throw new Error(`flags "${flags}" are not allowed (only i, m, s, u)`);
  return compileRegex(source, flags);
}

export function testPattern(pattern: DefinitionRegex, subject: unknown): boolean {
  if (typeof subject === 'number' || typeof subject === 'boolean') subject = String(subject);
  if (typeof subject !== 'string') return false;
  if (subject.length > EXPRESSION_LIMITS.stringLength) throw new EvaluationFailure('matches subject too long');
  return pattern.test(subject);
}
