/**
 * Gravitee `api.flows` (message API phases `publish` and `subscribe`) -> Sluice `flows`. Converted
 * policies: json-validation -> json-validate, transform-headers -> headers (static values), and the
 * request-phase message size limit is not (Sluice's max-size is per message). Expressions (Gravitee EL)
 * are never converted: a policy that needs one is reported, a step's condition is dropped and reported.
 */
import type { Flows, PolicyStep } from '../../../schemas/types.ts';
import { asArray, isEmpty, isObject, token, type Warnings } from './warnings.ts';

type Obj = Record<string, unknown>;
type StepConverter = (config: Obj, at: string, warnings: Warnings) => Obj | undefined;

const obj = (value: unknown): Obj => (isObject(value) ? value : {});
const hasExpression = (value: unknown): boolean => typeof value === 'string' && value.includes('{#');

/** By Gravitee policy id. */
const POLICIES: Record<string, StepConverter> = {
  'json-validation': (config, at, warnings) => {
    let schema: unknown = config.schema;
    if (typeof schema === 'string') {
      try {
        schema = JSON.parse(schema);
      } catch {
        warnings.notCarried(`${at}.configuration.schema`, 'the JSON schema is not valid JSON; policy left out');
        return undefined;
      }
    }
    if (!isObject(schema)) {
      warnings.notCarried(`${at}.configuration.schema`, 'no JSON schema object; policy left out');
      return undefined;
    }
    warnings.rest(`${at}.configuration`, config, ['schema', 'scope', 'errorMessage', 'deepCheck', 'validateUnchecked', 'straightRespondMode', 'statusCode'], 'json-validation');
    return { policy: 'json-validate', schema };
  },
  'transform-headers': (config, at, warnings) => {
    const set: Record<string, string> = {};
    asArray(config.addHeaders).forEach((header, h) => {
      if (!isObject(header) || typeof header.name !== 'string') return;
      if (hasExpression(header.value)) warnings.expression(`${at}.configuration.addHeaders[${h}].value`, `header "${header.name}": the value ${String(header.value)} is an expression; left out`);
      else set[header.name] = String(header.value ?? '');
    });
    const remove = asArray(config.removeHeaders).filter((h): h is string => typeof h === 'string' && h.length > 0);
    if (!isEmpty(config.whitelistHeaders)) warnings.notCarried(`${at}.configuration.whitelistHeaders`, 'a header allow-list has no Sluice equivalent; left out');
    warnings.rest(`${at}.configuration`, config, ['addHeaders', 'removeHeaders', 'whitelistHeaders', 'scope'], 'transform-headers');
    if (!Object.keys(set).length && !remove.length) return undefined;
    return { policy: 'headers', ...(Object.keys(set).length ? { set } : {}), ...(remove.length ? { remove } : {}) };
  },
};

const PHASES = ['publish', 'subscribe'] as const;

export function convertFlows(flows: unknown, flowExecution: unknown, warnings: Warnings): Flows | undefined {
  const out: Required<Flows> = { publish: [], subscribe: [] };
  asArray(flows).forEach((flow, f) => {
    const at = `$.api.flows[${f}]`;
    if (!isObject(flow)) return;
    if (flow.enabled === false) {
      warnings.notCarried(at, `flow "${String(flow.name ?? f)}" is disabled; left out`);
      return;
    }
    const operations = selectors(flow.selectors, `${at}.selectors`, warnings);
    for (const phase of ['request', 'response', 'connect', 'interact']) {
      asArray(flow[phase]).forEach((step, s) => {
        if (isObject(step)) warnings.notCarried(`${at}.${phase}[${s}]`, `policy "${String(step.policy)}" runs in the ${phase} phase, which Sluice flows do not have (they run per message, publish and subscribe); left out`);
      });
    }
    for (const phase of PHASES) {
      if (operations && !operations.has(phase)) continue;
      asArray(flow[phase]).forEach((step, s) => {
        const converted = convertStep(step, `${at}.${phase}[${s}]`, warnings);
        if (converted) out[phase].push(converted);
      });
    }
  });
  const execution = obj(flowExecution);
  if (execution.matchRequired === true) warnings.notCarried('$.api.flowExecution.matchRequired', 'matchRequired has no Sluice equivalent: every message goes through the flows');
  return out.publish.length || out.subscribe.length ? out : undefined;
}

/** The operations a flow's channel selector keeps (undefined: both); other selectors are reported. */
function selectors(list: unknown, at: string, warnings: Warnings): Set<string> | undefined {
  let operations: Set<string> | undefined;
  asArray(list).forEach((selector, s) => {
    if (!isObject(selector)) return;
    const here = `${at}[${s}]`;
    const kind = token(selector.type);
    if (kind === 'channel') {
      const ops = asArray(selector.operations).map(token);
      if (ops.length) operations = new Set(ops);
      const channel = typeof selector.channel === 'string' ? selector.channel : '/';
      if (channel !== '/' && channel !== '') warnings.notCarried(`${here}.channel`, `the flow applies to channel "${channel}" only in Gravitee; Sluice flows apply to the whole API`);
      if (!isEmpty(selector.entrypoints)) warnings.notCarried(`${here}.entrypoints`, 'the flow applies to some entrypoints only in Gravitee; Sluice flows apply to all of them');
    } else if (kind === 'condition') {
      warnings.expression(`${here}.condition`, `the flow condition ${String(selector.condition)} is not converted; the flow applies to every message`);
    } else {
      warnings.notCarried(`${here}.type`, `selector "${String(selector.type)}" has no Sluice equivalent; the flow applies to every message`);
    }
  });
  return operations;
}

function convertStep(step: unknown, at: string, warnings: Warnings): PolicyStep | undefined {
  if (!isObject(step)) return undefined;
  const converter = POLICIES[String(step.policy)];
  if (!converter) {
    warnings.notCarried(`${at}.policy`, `policy "${String(step.policy)}" is not converted (Sluice converts json-validation and transform-headers; see docs/guides/policies.md for message-filter, transform and max-size); left out`);
    return undefined;
  }
  const converted = converter(obj(step.configuration), at, warnings);
  if (!converted) return undefined;
  if (step.enabled === false) converted.enabled = false;
  for (const key of ['condition', 'messageCondition']) {
    if (!isEmpty(step[key])) warnings.expression(`${at}.${key}`, `the ${key} ${String(step[key])} is not converted; the policy applies to every message`);
  }
  return converted as unknown as PolicyStep;
}
