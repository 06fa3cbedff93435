/**
 * Flows: every policy step compiles (conditions parse, json-validate schemas compile, transform
 * paths do not conflict, ...). The rules belong to the policies themselves
 * (core/policies/check.ts, POLICY_* codes); this module places their problems in api.json.
 */
import { checkFlows } from '../../core/policies/check.ts';
import { diagnosticAt, type Diagnostic } from '../diagnostic.ts';
import type { ApiModel } from './model.ts';

export function checkApiFlows(model: ApiModel): Diagnostic[] {
  if (!model.api) return [];
  const { file, value } = model.api;
  return checkFlows(value).map((problem) => diagnosticAt(file, problem.pointer, problem.code, problem.message, problem.part));
}
