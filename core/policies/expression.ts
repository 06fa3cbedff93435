/**
 * The condition expression language of message policies.
 *
 * Parsed with jsep (plus its regex-literal plugin); compiled here, once, into a tree of closures over a
 * whitelist of node types. There is no `eval`, no `Function`, no method call and no prototype access.
 *
 * Names:       `request` (`.params`, `.query`) and `caller` (`.plan`, `.clientId`, `.claims`, `.application`): channels ·
 *              `$` the content parsed as JSON · `content` the content as text · `headers` (names are
 *              case-insensitive: `headers.region`, `headers["x-trace-id"]`) · `metadata` · `id` · `timestamp`
 * Access:      `$.a.b`, `$.items[0]`, `$["x-y"]`, `$?.a` (same as `$.a`: a missing member is undefined)
 *              — own data of plain objects, arrays and strings only; `__proto__`, `constructor` and
 *              `prototype` are refused at compile time (and read as undefined when computed at run time)
 * Literals:    `"text"`, `'text'`, `12.5`, `true`, `false`, `null`, `[1, 2]`, `/regex/i` (in `matches` only)
 * Operators:   `== !=` (strict, plus null == undefined and "10" == 10) · `=== !==` (strict) ·
 *              `< <= > >=` (numbers, numeric strings, or two strings) · `&& || ! ??` · `a ? b : c` ·
 *              `+ - * / %` (numbers; `+` also joins text) · unary `- +` · `x in y` (element of an array,
 *              substring of a string, key of an object)
 * Functions:   `contains(s, x)` `startsWith(s, p)` `endsWith(s, p)` `matches(s, /re/flags | "re")`
 *              `length(x)` `lower(s)` `upper(s)` `exists(x)` `number(x)`
 *
 * Contract: {@link compileExpression} throws an {@link ExpressionError} (message + 1-based column) for
 * any expression outside the language or its bounds (EXPRESSION_LIMITS). A compiled expression never
 * throws: an evaluation that fails (content not JSON where `$` is read, arithmetic on non-numbers,
 * a string past the bound) yields undefined and calls `onError` once, so the policy can count it.
 * A condition is true when the value is truthy.
 */
import jsep from 'jsep';
import regexPlugin from '@jsep-plugin/regex';
import type { Message } from '../message.ts';
import { EXPRESSION_LIMITS } from './expression-values.ts';
import { ExpressionError } from './expression-error.ts';
import { Compiler, type Ast } from './expression-compiler.ts';

export { EXPRESSION_LIMITS } from './expression-values.ts';

// jsep is configured process-wide: regex literals and the `in` operator (same precedence as `<`).
jsep.plugins.register(regexPlugin);
jsep.addBinaryOp('in', 7);

export { ExpressionError, type ExpressionErrorCode } from './expression-error.ts';

/** Evaluates to a plain value; never throws. */
export type Evaluator = (message: Message) => unknown;
export type Predicate = (message: Message) => boolean;

export interface CompileOptions {
  /** Called once per failed evaluation (the result is then undefined / false). Must not throw. */
  readonly onError?: (failure: Error) => void;
}

/** Names whose value depends on the client a message is evaluated for. */
export const CALLER_NAMES: readonly string[] = ['request', 'caller'];

/** Parses and compiles once. Throws ExpressionError. */
export function compileExpression(source: string, options: CompileOptions = {}): Evaluator {
  const node = new Compiler(source).compile(parse(source));
  const onError = options.onError;
  return (message) => {
    try {
      return node({ message });
    } catch (error) {
      // EvaluationFailure, or a RangeError from pathological data: never escapes to the message path.
      onError?.(error instanceof Error ? error : new Error(String(error)));
      return undefined;
    }
  };
}

/** A compiled condition: true when the expression's value is truthy (a failed evaluation is false). */
export function compileCondition(source: string, options: CompileOptions = {}): Predicate {
  const evaluate = compileExpression(source, options);
  return (message) => Boolean(evaluate(message));
}

/** The compile-time verdict without keeping the result: null when the expression is accepted. */
export function checkExpression(source: string): ExpressionError | null {
  try {
    compileExpression(source);
    return null;
  } catch (error) {
    if (error instanceof ExpressionError) return error;
    throw error;
  }
}

/** Does the expression read `request` or `caller` (so it must run once per client, not once per message)? False for one that does not parse. */
export function expressionUsesCaller(source: string): boolean {
  let ast: Ast;
  try {
    ast = parse(source);
  } catch {
    return false;
  }
  const visit = (node: unknown, asProperty: boolean): boolean => {
    if (!node || typeof node !== 'object') return false;
    const n = node as Record<string, unknown>;
    if (n.type === 'Identifier') return !asProperty && CALLER_NAMES.includes(n.name as string);
    if (n.type === 'MemberExpression') return visit(n.object, false) || visit(n.property, !n.computed);
    return Object.values(n).some((value) => (Array.isArray(value) ? value.some((v) => visit(v, false)) : visit(value, false)));
  };
  return visit(ast, false);
}

function parse(source: string): Ast {
  if (typeof source !== 'string' || source.trim() === '') throw new ExpressionError('POLICY_INVALID_CONDITION', 'the expression is empty', 1);
  if (source.length > EXPRESSION_LIMITS.sourceLength) {
    throw new ExpressionError('POLICY_INVALID_CONDITION', `the expression is longer than ${EXPRESSION_LIMITS.sourceLength} characters`, EXPRESSION_LIMITS.sourceLength + 1);
  }
  try {
    return jsep(source);
  } catch (error) {
    const e = error as { index?: number; description?: string; message?: string };
    if (typeof e.index === 'number') {
      throw new ExpressionError('POLICY_INVALID_CONDITION', `syntax error: ${e.description ?? e.message}`, e.index + 1);
    }
    // e.g. RangeError from absurd nesting
    throw new ExpressionError('POLICY_INVALID_CONDITION', 'the expression is too deeply nested', 1);
  }
}
