import type { Message } from '../message.ts';
import type { Direction, PolicyOutcome } from './counters.ts';

export type { Direction } from './counters.ts';

/**
 * A compiled policy step. Returns the (new) message, or null to drop it.
 * On publish it may throw a GatewayError (400, 413) that the client sees.
 * Built when the bundle is built; the per-message path only runs this closure.
 */
export type PolicyStep = (message: Message) => Message | null;

/** What a policy factory gets besides its configuration. */
export interface PolicyContext {
  readonly direction: Direction;
  /** Counts an outcome of this step (bound to API, policy, direction and step index). Cheap; never throws. */
  count(outcome: PolicyOutcome): void;
}

/**
 * Builds one step from its (schema-valid) configuration, once. The step's `enabled` and — unless
 * the module sets `ownsCondition` — its `condition` are applied by compileFlow around the result.
 * Throws a PolicyConfigError for configuration the schema cannot refuse (its `check` reports the same).
 */
export type PolicyFactory<Config> = (config: Config, context: PolicyContext) => PolicyStep;

/** A configuration problem; `path` is a JSON pointer relative to the step (e.g. "/set/a.b"). */
export interface PolicyProblem {
  readonly path: string;
  /** Stable code: POLICY_INVALID_CONDITION, POLICY_UNSAFE_ACCESS, POLICY_INVALID_SCHEMA, ... */
  readonly code: string;
  readonly message: string;
  /** Point at the key of `path` rather than its value (e.g. a patternProperties pattern). */
  readonly part?: 'key';
}

/** One policy: its factory, its static checks, and whether `condition` is its own business (message-filter). */
export interface PolicyModule<Config> {
  readonly build: PolicyFactory<Config>;
  /** Problems in the configuration beyond the condition (checked by compileFlow's caller at compile time). */
  readonly check: (config: Config) => PolicyProblem[];
  readonly ownsCondition?: boolean;
}

/** Thrown by a factory given configuration `check` would have reported. */
export class PolicyConfigError extends Error {
  constructor(readonly problems: readonly PolicyProblem[]) {
    super(problems.map((p) => `${p.code} at ${p.path || '(step)'}: ${p.message}`).join('; '));
    this.name = 'PolicyConfigError';
  }
}

/** Escapes one JSON pointer token (for PolicyProblem paths). */
export function pointerToken(token: string | number): string {
  return String(token).replace(/~/g, '~0').replace(/\//g, '~1');
}
