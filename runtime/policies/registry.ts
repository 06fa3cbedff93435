/**
 * Policy implementations by schema `policy`. Adding a policy: one module exporting a PolicyModule,
 * one line here. `compileFlow` turns a flow's step list into one closure when the bundle is built;
 * the exchange calls it once per direction (seam owned by the runtime, filled by the policies work).
 */
import type { PolicyStep as PolicyConfig } from '../../schemas/types.ts';
import type { Message } from '../message.ts';
import { log } from '../log.ts';
import type { Direction, PolicyModule, PolicyStep } from './policy.ts';

type PolicyModules = { [K in PolicyConfig['policy']]?: PolicyModule<Extract<PolicyConfig, { policy: K }>> };

export const policyModules: PolicyModules = {};

/** A compiled flow: the message after every step, or null when a step dropped it. May throw a GatewayError on publish. */
export type Flow = (message: Message) => Message | null;

const passThrough: Flow = (message) => message;

/**
 * Compiles the steps of one direction, in order. Disabled steps are skipped. A policy this
 * runtime does not implement yet is skipped with a warning at build time (never per message).
 */
export function compileFlow(steps: readonly PolicyConfig[] | undefined, direction: Direction, apiId = ''): Flow {
  const compiled: PolicyStep[] = [];
  for (const config of steps ?? []) {
    if (config.enabled === false) continue;
    const module = policyModules[config.policy] as PolicyModule<PolicyConfig> | undefined;
    if (!module) {
      log.warn({ api: apiId, policy: config.policy, direction }, 'policy not available in this runtime; step skipped');
      continue;
    }
    compiled.push(module.build(config, { direction, count: () => undefined }));
  }
  if (compiled.length === 0) return passThrough;
  if (compiled.length === 1) return compiled[0]!;
  return (message) => {
    let current: Message | null = message;
    for (const step of compiled) {
      current = step(current);
      if (current === null) return null;
    }
    return current;
  };
}
