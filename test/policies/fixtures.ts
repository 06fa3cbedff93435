import type { PolicyStep as PolicyConfig } from '../../schemas/types.ts';
import { message, type Message } from '../../core/message.ts';
import { MemoryPolicyCounters } from '../../core/policies/counters.ts';
import { compileFlow, type Flow } from '../../core/policies/flow.ts';
import type { Direction } from '../../core/policies/policy.ts';

let next = 0;

/** A message whose content is `value` as JSON, or `value` itself when it is a string. */
export function msg(value: unknown, headers: Record<string, string> = {}, metadata: Message['metadata'] = {}): Message {
  const content = typeof value === 'string' ? value : JSON.stringify(value);
  return message({ id: String(next++), content: Buffer.from(content), headers, metadata });
}

export function body(message: Message | null): unknown {
  if (message === null) throw new Error('the message was dropped');
  return JSON.parse(message.content.toString('utf8'));
}

/** One flow with fresh counters, for one direction. */
export function flow(direction: Direction, ...steps: PolicyConfig[]): { run: Flow; counters: MemoryPolicyCounters } {
  const counters = new MemoryPolicyCounters();
  return { run: compileFlow(steps, direction, { counters }), counters };
}

/** Both directions, for tests that must hold on publish and on subscribe. */
export const DIRECTIONS: readonly Direction[] = ['publish', 'subscribe'];
