/**
 * Compile-time checking of an API's flows: everything compileFlow would refuse, reported all at once
 * with JSON pointers into api.json, so the compiler turns them into file:line:col diagnostics.
 *
 * Codes: POLICY_INVALID_CONDITION (syntax, unknown name or function, bad regex, bounds),
 * POLICY_UNSAFE_ACCESS (`__proto__`, `constructor`, `prototype` in an expression or path),
 * POLICY_INVALID_SCHEMA (json-validate schema ajv cannot compile), POLICY_INVALID_PATH (empty path
 * or segment), POLICY_CONFLICTING_PATHS (transform paths that overlap or undo each other; headers
 * set twice in different case), POLICY_INVALID_HEADER, POLICY_INVALID_SIZE, POLICY_EMPTY_STEP
 * (a transform or headers step that does nothing), POLICY_UNKNOWN, UNSAFE_REGEX (a pattern RE2 cannot run).
 */
import type { Api, PolicyStep as PolicyConfig } from '../../schemas/types.ts';
import { checkExpression } from './expression.ts';
import { policyModule } from './flow.ts';
import type { Direction } from './policy.ts';

/** Every code checkFlows emits, with what it means (stable: tools and CI may match on them). */
export const POLICY_CODES: Readonly<Record<string, string>> = Object.freeze({
  POLICY_INVALID_CONDITION: 'a condition that does not parse, names an unknown variable or function, or exceeds the expression bounds',
  POLICY_UNSAFE_ACCESS: '__proto__, constructor or prototype in a condition or a transform path',
  POLICY_INVALID_SCHEMA: 'a json-validate schema that ajv (draft 2020-12, strict) cannot compile',
  POLICY_INVALID_PATH: 'a transform path that is empty or has an empty segment',
  POLICY_CONFLICTING_PATHS: 'transform paths that overlap or undo each other; a header set twice in different case',
  POLICY_INVALID_HEADER: 'a header name that is not a token, or a header value with a line break',
  POLICY_INVALID_SIZE: 'a max-size maxBytes that is not a positive integer',
  POLICY_EMPTY_STEP: 'a transform or headers step that does nothing',
  POLICY_UNKNOWN: 'a policy this runtime does not implement',
  UNSAFE_REGEX: 'a regular expression (matches() pattern, json-validate pattern or patternProperties key) that RE2 cannot run or that is too large: lookaround, backreferences, repeat counts over 1000, over 4096 characters or 1000 items expanded',
});

export interface FlowProblem {
  /** JSON pointer into the API definition, e.g. "/flows/subscribe/0/condition". */
  readonly pointer: string;
  readonly code: string;
  readonly message: string;
  /** Point at the key of `pointer` rather than its value. */
  readonly part?: 'key';
}

const DIRECTIONS: readonly Direction[] = ['publish', 'subscribe'];

/** Problems in `definition.flows` (disabled steps included: enabling one must not break a deploy). */
export function checkFlows(definition: Pick<Api, 'flows'>): FlowProblem[] {
  const problems: FlowProblem[] = [];
  for (const direction of DIRECTIONS) {
    const steps: readonly PolicyConfig[] = definition.flows?.[direction] ?? [];
    steps.forEach((step, index) => {
      const base = `/flows/${direction}/${index}`;
      const name = `${direction}[${index}] ${step.policy}`;
      if (typeof step.condition === 'string') {
        const error = checkExpression(step.condition);
        if (error) problems.push({ pointer: `${base}/condition`, code: error.code, message: `${name}: condition: ${error.message}` });
      }
      const module = policyModule(step.policy);
      if (!module) {
        problems.push({ pointer: `${base}/policy`, code: 'POLICY_UNKNOWN', message: `${name}: unknown policy` });
        return;
      }
      for (const problem of module.check(step)) {
        problems.push({ pointer: `${base}${problem.path}`, code: problem.code, message: `${name}: ${problem.message}`, ...(problem.part ? { part: problem.part } : {}) });
      }
    });
  }
  return problems;
}
