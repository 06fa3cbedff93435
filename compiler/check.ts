/**
 * Check stage: the rules no schema can express, across files and APIs. Runs on the documents that
 * passed validation (defaults filled in); the inline-secret scan runs on every parsed document.
 * Each rule module returns diagnostics with stable codes; nothing stops at the first problem.
 */
import type { Api, Bundle, BundleApi, Plan, Subscription } from '../schemas/types.ts';
import { diagnosticAt, pushAll, type Diagnostic, type OmittedCounts } from './diagnostic.ts';
import type { ParsedFile } from './source.ts';
import { checkContextPaths } from './check/context-paths.ts';
import { checkEntrypoints } from './check/entrypoints.ts';
import { checkEndpoints } from './check/endpoints.ts';
import { checkLifecycle, checkReplacements } from './check/lifecycle.ts';
import { checkPlans } from './check/plans.ts';
import { checkSubscriptions } from './check/subscriptions.ts';
import { checkCors } from './check/cors.ts';
import { scanSecrets } from './check/secrets.ts';
import { checkApiFlows } from './check/flows.ts';
import { checkWebhooks } from './check/webhooks.ts';
import { checkDeadLetters } from './check/dead-letters.ts';
import { checkChannels } from './check/channels.ts';

export type { ApiModel, CheckContext, Located } from './check/model.ts';
import type { ApiModel, CheckContext } from './check/model.ts';

/**
 * Release rules (owned by the GitOps side): the candidate APIs compared with the previous release.
 * `at` builds a diagnostic at a pointer of one of the candidate's files (e.g. "orders/api.json").
 */
export type ReleaseRules = (input: {
  apis: Record<string, BundleApi>;
  previous: Bundle;
  at: (file: string, pointer: string, code: string, message: string) => Diagnostic;
}) => Diagnostic[];

export interface CheckOptions extends CheckContext {
  /** The previous release; release rules run only when both this and `releaseRules` are given. */
  previous?: Bundle;
}

/**
 * Run the release rules on the candidate APIs of a clean tree (compileTree calls this only when
 * every other stage found nothing, so a typo never looks like a removed API or plan).
 */
export function checkRelease(apis: Record<string, BundleApi>, parsed: readonly ParsedFile[], previous: Bundle, rules: ReleaseRules): Diagnostic[] {
  const files = new Map<string, ParsedFile>(parsed.map((file) => [file.path, file]));
  const at = (path: string, pointer: string, code: string, message: string): Diagnostic => {
    const file = files.get(path);
    return file ? diagnosticAt(file, pointer, code, message) : { file: path, line: 1, column: 1, pointer, code, message };
  };
  return rules({ apis, previous, at });
}

/**
 * Run every rule of one tree. `parsed` is every document that parsed (valid or not), for the secret
 * scan. `omitted` counts diagnostics a rule counted without building them (see capPerCode).
 */
export function check(models: readonly ApiModel[], parsed: readonly ParsedFile[], options: CheckOptions = {}): { diagnostics: Diagnostic[]; omitted: OmittedCounts } {
  const contextPaths = checkContextPaths(models);
  const diagnostics: Diagnostic[] = contextPaths.diagnostics;
  pushAll(diagnostics, checkReplacements(models));
  for (const model of models) {
    for (const rule of [
      checkEntrypoints(model),
      checkEndpoints(model),
      checkLifecycle(model),
      checkPlans(model, options),
      checkSubscriptions(model),
      checkCors(model),
      checkApiFlows(model),
      checkWebhooks(model),
      checkDeadLetters(model),
      checkChannels(model),
    ]) pushAll(diagnostics, rule);
  }
  // The generic secret scan, except where a rule already reported the same value with a more
  // specific INLINE_SECRET message (e.g. a webhook callbackUrl with user:password@).
  const where = (d: Diagnostic) => `${d.file}\0${d.pointer}`;
  const specific = new Set(diagnostics.filter((d) => d.code === 'INLINE_SECRET').map(where));
  for (const file of parsed) pushAll(diagnostics, scanSecrets(file).filter((d) => !specific.has(where(d))));
  return { diagnostics, omitted: contextPaths.omitted ? { CONTEXT_PATH_OVERLAP: contextPaths.omitted } : {} };
}
