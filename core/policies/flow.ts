/**
 * Flows: a direction's ordered policy steps compiled into one closure when a bundle is built.
 * Adding a policy: one schema, one module exporting a PolicyModule, one line in POLICIES.
 *
 * Around every step: `enabled: false` removes it; `condition` (except for message-filter, whose
 * condition is the filter) makes the step apply only to messages for which it is true — otherwise the
 * message passes the step unchanged. A null from any step ends the flow (the message is dropped).
 */
import type { PolicyStep as PolicyConfig } from '../../schemas/types.ts';
import type { Message } from '../message.ts';
import { noPolicyCounters, type PolicyCounters } from './counters.ts';
import { compileCondition, ExpressionError, expressionUsesCaller } from './expression.ts';
import { headers } from './headers.ts';
import { jsonValidate } from './json-validate.ts';
import { maxSize } from './max-size.ts';
import { messageFilter } from './message-filter.ts';
import { PolicyConfigError, type Direction, type PolicyContext, type PolicyModule, type PolicyStep } from './policy.ts';
import { transform } from './transform.ts';

type Modules = { readonly [K in PolicyConfig['policy']]: PolicyModule<Extract<PolicyConfig, { policy: K }>> };

export const POLICIES: Modules = Object.freeze({
  'message-filter': messageFilter,
  transform,
  headers,
  'json-validate': jsonValidate,
  'max-size': maxSize,
});

/** A compiled flow: the message after every step, or null when a step dropped it. May throw a GatewayError on publish. */
export type Flow = ((message: Message) => Message | null) & {
  /**
   * A condition reads `request` or `caller` (channels): the flow must run once per client with the
   * client's `message.context`, not once per message for all. Absent/false: the one shared evaluation.
   */
  readonly perCaller?: boolean;
};

export interface FlowOptions {
  /** Where step outcomes are counted (one object per API). */
  readonly counters?: PolicyCounters;
}

const passThrough: Flow = (message) => message;

export function policyModule(name: string): PolicyModule<PolicyConfig> | undefined {
  return Object.hasOwn(POLICIES, name) ? (POLICIES[name as PolicyConfig['policy']] as PolicyModule<PolicyConfig>) : undefined;
}

/**
 * Compiles one direction's steps, in order. Throws a PolicyConfigError (path relative to the step,
 * prefixed with its index) for configuration the compiler's check would have refused, so a bad bundle
 * fails to build instead of misbehaving per message.
 */
export function compileFlow(steps: readonly PolicyConfig[] | undefined, direction: Direction, options: FlowOptions = {}): Flow {
  const counters = options.counters ?? noPolicyCounters;
  const compiled: PolicyStep[] = [];
  (steps ?? []).forEach((config, index) => {
    if (config.enabled === false) return;
    try {
      compiled.push(buildStep(config, index, direction, counters));
    } catch (error) {
      if (error instanceof PolicyConfigError) {
        throw new PolicyConfigError(error.problems.map((p) => ({ ...p, path: `/${direction}/${index}${p.path}` })));
      }
      throw error;
    }
  });
  if (compiled.length === 0) return passThrough;
  const perCaller = (steps ?? []).some((config) => config.enabled !== false && typeof config.condition === 'string' && expressionUsesCaller(config.condition));
  const flow: (message: Message) => Message | null = compiled.length === 1 ? compiled[0]! : (message) => {
    let current: Message | null = message;
    for (const step of compiled) {
      current = step(current);
      if (current === null) return null;
    }
    return current;
  };
  return perCaller ? Object.assign((message: Message) => flow(message), { perCaller: true }) : flow;
}

function buildStep(config: PolicyConfig, index: number, direction: Direction, counters: PolicyCounters): PolicyStep {
  const module = policyModule(config.policy);
  if (!module) throw new PolicyConfigError([{ path: '/policy', code: 'POLICY_UNKNOWN', message: `unknown policy "${config.policy}"` }]);
  const context: PolicyContext = {
    direction,
    count: (outcome) => counters.count(config.policy, direction, index, outcome),
  };
  try {
    const action = module.build(config, context);
    if (module.ownsCondition || config.condition === undefined) return action;
    const applies = compileCondition(config.condition, { onError: () => context.count('condition-error') });
    return (message) => (applies(message) ? action(message) : message);
  } catch (error) {
    if (error instanceof ExpressionError) {
      throw new PolicyConfigError([{ path: '/condition', code: error.code, message: error.message }]);
    }
    throw error;
  }
}
