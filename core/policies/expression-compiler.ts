/**
 * The compiler of the condition language (expression.ts): a jsep tree to a tree of closures over a
 * whitelist of node types, within EXPRESSION_LIMITS; throws ExpressionError.
 */
import type jsep from 'jsep';
import type { Message } from '../message.ts';
import { contentJson, contentText, NOT_JSON, UNSAFE_PROPERTIES } from './content.ts';
import {
  arithmetic, compare, compilePattern, contains, EvaluationFailure, EXPRESSION_LIMITS, FUNCTIONS, headerOf,
  looseEquals, lowerCaseHeaders, memberOf, testPattern, toNumber,
} from './expression-values.ts';
import { UnsafeRegexError, type DefinitionRegex } from '../regex.ts';
import { ExpressionError } from './expression-error.ts';

export interface Scope {
  readonly message: Message;
}
export type Node = (scope: Scope) => unknown;
export type Ast = jsep.Expression;

const NAMES: Readonly<Record<string, Node>> = Object.freeze({
  $: ({ message }: Scope) => {
    const value = contentJson(message);
    if (value === NOT_JSON) throw new EvaluationFailure('the content is not JSON');
    return value;
  },
  content: ({ message }: Scope) => contentText(message),
  headers: ({ message }: Scope) => lowerCaseHeaders(message.headers),
  metadata: ({ message }: Scope) => message.metadata,
  id: ({ message }: Scope) => message.id,
  timestamp: ({ message }: Scope) => message.timestamp,
  // Channels: the request and caller a message is evaluated for (undefined in the shared, caller-independent path).
  request: ({ message }: Scope) => message.context?.request as unknown,
  caller: ({ message }: Scope) => message.context?.caller as unknown,
});

export class Compiler {
  #nodes = 0;

  constructor(private readonly source: string) {}

  compile(ast: Ast, depth = 0): Node {
    if (++this.#nodes > EXPRESSION_LIMITS.nodes) this.fail(`the expression has more than ${EXPRESSION_LIMITS.nodes} parts`);
    if (depth > EXPRESSION_LIMITS.depth) this.fail(`the expression nests deeper than ${EXPRESSION_LIMITS.depth} levels`);
    const d = depth + 1;
    switch (ast.type) {
      case 'Literal': {
        const value = (ast as jsep.Literal).value;
        if (value instanceof RegExp) this.fail('a regex literal is only allowed as the pattern of matches()', String((ast as jsep.Literal).raw));
        return () => value;
      }
      case 'Identifier': {
        const name = (ast as jsep.Identifier).name;
        if (UNSAFE_PROPERTIES.has(name)) this.unsafe(name);
        if (Object.hasOwn(FUNCTIONS, name)) this.fail(`${name} is a function: call it as ${name}(...)`, name);
        if (!Object.hasOwn(NAMES, name)) this.fail(`unknown name "${name}" (use $, content, headers, metadata, id, timestamp, request or caller)`, name);
        return NAMES[name];
      }
      case 'MemberExpression':
        return this.member(ast as jsep.MemberExpression, d);
      case 'ArrayExpression': {
        const elements = (ast as jsep.ArrayExpression).elements.map((element) => {
          if (!element) this.fail('empty array element', ',');
          return this.compile(element, d);
        });
        return (scope) => elements.map((element) => element(scope));
      }
      case 'UnaryExpression': {
        const { operator, argument } = ast as jsep.UnaryExpression;
        const arg = this.compile(argument, d);
        if (operator === '!') return (scope) => !arg(scope);
        if (operator === '-') return (scope) => -toNumber(arg(scope));
        if (operator === '+') return (scope) => toNumber(arg(scope));
        return this.fail(`operator "${operator}" is not supported`, operator);
      }
      case 'BinaryExpression':
        return this.binary(ast as jsep.BinaryExpression, d);
      case 'ConditionalExpression': {
        const { test, consequent, alternate } = ast as jsep.ConditionalExpression;
        const [t, c, a] = [this.compile(test, d), this.compile(consequent, d), this.compile(alternate, d)];
        return (scope) => (t(scope) ? c(scope) : a(scope));
      }
      case 'CallExpression':
        return this.call(ast as jsep.CallExpression, d);
      case 'ThisExpression':
        return this.fail('"this" is not supported', 'this');
      case 'Compound':
      case 'SequenceExpression':
        return this.fail('one expression expected (found several, missing an operator?)');
      default:
        return this.fail(`${ast.type} is not supported`);
    }
  }

  private member(ast: jsep.MemberExpression, depth: number): Node {
    const key = this.memberKey(ast);
    // headers: case-insensitive lookup without copying the headers
    if (ast.object.type === 'Identifier' && (ast.object as jsep.Identifier).name === 'headers' && typeof key === 'string') {
      const lower = key.toLowerCase();
      return ({ message }) => headerOf(message.headers, key, lower);
    }
    const object = this.compile(ast.object, depth);
    if (typeof key === 'string' || typeof key === 'number') return (scope) => memberOf(object(scope), key);
    const computed = this.compile(ast.property, depth);
    return (scope) => memberOf(object(scope), computed(scope)); // memberOf refuses unsafe names at run time
  }

  /** The static key of a member access, or undefined when it is computed at run time. */
  private memberKey(ast: jsep.MemberExpression): string | number | undefined {
    const property = ast.property;
    let key: unknown;
    if (!ast.computed) {
      if (property.type !== 'Identifier') this.fail('a property name was expected');
      key = (property as jsep.Identifier).name;
    } else if (property.type === 'Literal') {
      key = (property as jsep.Literal).value;
      if (typeof key !== 'string' && typeof key !== 'number') this.fail('a property must be a string or a number', String((property as jsep.Literal).raw));
    } else {
      return undefined;
    }
    if (typeof key === 'string' && UNSAFE_PROPERTIES.has(key)) this.unsafe(key);
    return key as string | number;
  }

  private binary(ast: jsep.BinaryExpression, depth: number): Node {
    const { operator } = ast;
    const left = this.compile(ast.left, depth);
    const right = this.compile(ast.right, depth);
    switch (operator) {
      case '&&': return (s) => left(s) && right(s);
      case '||': return (s) => left(s) || right(s);
      case '??': return (s) => left(s) ?? right(s);
      case '==': return (s) => looseEquals(left(s), right(s));
      case '!=': return (s) => !looseEquals(left(s), right(s));
      case '===': return (s) => left(s) === right(s);
      case '!==': return (s) => left(s) !== right(s);
      case '<': case '<=': case '>': case '>=':
        return (s) => compare(operator, left(s), right(s));
      case '+': case '-': case '*': case '/': case '%':
        return (s) => arithmetic(operator, left(s), right(s));
      case 'in': return (s) => contains(right(s), left(s));
      default: return this.fail(`operator "${operator}" is not supported`, operator);
    }
  }

  private call(ast: jsep.CallExpression, depth: number): Node {
    if (ast.callee.type !== 'Identifier') {
      this.compile(ast.callee, depth); // reports unsafe access in the callee first
      return this.fail('only the built-in functions can be called (no methods)', '(');
    }
    const name = (ast.callee as jsep.Identifier).name;
    if (!Object.hasOwn(FUNCTIONS, name)) return this.fail(`unknown function "${name}"`, name);
    const { arity, call } = FUNCTIONS[name];
    if (ast.arguments.length !== arity) this.fail(`${name}() takes ${arity} argument${arity > 1 ? 's' : ''}`, name);
    if (name === 'matches') return this.matches(ast, depth);
    const args = ast.arguments.map((argument) => this.compile(argument, depth));
    if (args.length === 1) {
      const [a] = args;
      return (s) => call!(a(s));
    }
    const [a, b] = args;
    return (s) => call!(a(s), b(s));
  }

  /** matches(subject, /re/flags | "re"): the pattern must be a literal, compiled here, once, on RE2 (linear time). */
  private matches(ast: jsep.CallExpression, depth: number): Node {
    const [subjectAst, patternAst] = ast.arguments;
    if (patternAst.type !== 'Literal') return this.fail('the pattern of matches() must be a /regex/ or a string literal', 'matches');
    const literal = (patternAst as jsep.Literal).value;
    const raw = String((patternAst as jsep.Literal).raw);
    let pattern: DefinitionRegex;
    try {
      if (literal instanceof RegExp) pattern = compilePattern(literal.source, literal.flags);
      else if (typeof literal === 'string') pattern = compilePattern(literal, '');
      else return this.fail('the pattern of matches() must be a /regex/ or a string literal', 'matches');
    } catch (error) {
      if (error instanceof UnsafeRegexError) throw new ExpressionError('UNSAFE_REGEX', `pattern in matches(): ${error.message}`, this.columnOf(raw));
      return this.fail(`bad pattern in matches(): ${(error as Error).message}`, raw);
    }
    const subject = this.compile(subjectAst, depth);
    return (s) => testPattern(pattern, subject(s));
  }

  private unsafe(name: string): never {
    throw new ExpressionError('POLICY_UNSAFE_ACCESS', `access to "${name}" is not allowed`, this.columnOf(name));
  }

  private fail(detail: string, near?: string): never {
    throw new ExpressionError('POLICY_INVALID_CONDITION', detail, near ? this.columnOf(near) : 1);
  }

  /** jsep keeps no positions on nodes: point at the first occurrence of the offending text. */
  private columnOf(text: string): number {
    const index = this.source.indexOf(text);
    return index < 0 ? 1 : index + 1;
  }
}
