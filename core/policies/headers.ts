/**
 * headers: removes, then sets message headers. Names are case-insensitive: removing "X-A" removes
 * "x-a"; setting "X-A" replaces any "x-a" and keeps the configured spelling. Values are constants.
 */
import type { HeadersPolicy } from '../../schemas/types.ts';
import { PolicyConfigError, pointerToken, type PolicyModule, type PolicyProblem } from './policy.ts';

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/; // RFC 9110 field-name
const VALUE = /^[^\r\n\0]*$/;

function check(config: HeadersPolicy): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  const seen = new Map<string, string>();
  for (const [name, value] of Object.entries(config.set ?? {})) {
    const path = `/set/${pointerToken(name)}`;
    if (!TOKEN.test(name)) problems.push({ path, code: 'POLICY_INVALID_HEADER', message: `"${name}" is not a valid header name` });
    if (typeof value !== 'string' || !VALUE.test(value)) problems.push({ path, code: 'POLICY_INVALID_HEADER', message: `the value of "${name}" must not contain line breaks` });
    const other = seen.get(name.toLowerCase());
    if (other !== undefined) problems.push({ path, code: 'POLICY_CONFLICTING_PATHS', message: `"${name}" and "${other}" are the same header (names are case-insensitive)` });
    seen.set(name.toLowerCase(), name);
  }
  (config.remove ?? []).forEach((name, i) => {
    if (!TOKEN.test(name)) problems.push({ path: `/remove/${i}`, code: 'POLICY_INVALID_HEADER', message: `"${name}" is not a valid header name` });
  });
  if (Object.keys(config.set ?? {}).length === 0 && (config.remove ?? []).length === 0) {
    problems.push({ path: '', code: 'POLICY_EMPTY_STEP', message: 'the headers step neither sets nor removes anything' });
  }
  return problems;
}

export const headers: PolicyModule<HeadersPolicy> = {
  check,
  build(config) {
    const problems = check(config).filter((p) => p.code !== 'POLICY_EMPTY_STEP');
    if (problems.length > 0) throw new PolicyConfigError(problems);
    const set = Object.entries(config.set ?? {});
    const drop = new Set([...(config.remove ?? []), ...set.map(([name]) => name)].map((name) => name.toLowerCase()));
    return (message) => {
      const kept = Object.entries(message.headers).filter(([name]) => !drop.has(name.toLowerCase()));
      // fromEntries defines own properties: a header named "__proto__" stays a plain header
      const next = Object.freeze(Object.fromEntries([...kept, ...set]));
      return Object.freeze({ ...message, headers: next });
    };
  },
};
