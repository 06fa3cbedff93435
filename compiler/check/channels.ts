/**
 * Channels (context path templates, docs/guides/channels.md): every parameter a template uses is
 * mapped by each subscribing endpoint (MQTT consumer topic); every `{name}` an endpoint, a plan's
 * `bind` or `parameters` names is a parameter of every template of the API; patterns compile on the
 * linear-time engine. Which endpoint settings map parameters is declared in core/connectors.ts.
 */
import { diagnosticAt, type Diagnostic } from '../diagnostic.ts';
import type { ApiModel } from './model.ts';
import { channelFields, subscribes } from '../../core/connectors.ts';
import { parseTemplate, referencedParameters } from '../../core/channel.ts';
import { regexProblem } from '../../core/regex.ts';

export function checkChannels(model: ApiModel): Diagnostic[] {
  if (!model.api) return [];
  const { file, value } = model.api;
  const templates = value.contextPaths.map((path) => {
    try {
      return parseTemplate(path)?.parameters ?? [];
    } catch {
      return []; // reported by the context path check
    }
  });
  const used = new Set(templates.flat());
  const everywhere = (name: string) => templates.every((parameters) => parameters.includes(name));
  const out: Diagnostic[] = [];
  const unknown = (pointer: string, name: string, what: string) => out.push(diagnosticAt(file, pointer, 'CHANNEL_PARAMETER_UNKNOWN',
    used.has(name)
      ? `${what} names {${name}}, which not every context path of API ${model.id} has: give every context path the parameter, or split the API`
      : `${what} names {${name}}, which no context path of API ${model.id} declares (declared: ${[...used].map((p) => `{${p}}`).join(', ') || 'none'}): add it to a context path template, e.g. /path/{${name}}`));

  value.endpoints.forEach((endpoint, index) => {
    const fields = channelFields(endpoint);
    for (const field of fields) {
      for (const name of referencedParameters(field.text)) if (!everywhere(name)) unknown(`/endpoints/${index}${field.at}`, name, `${field.at.slice(1)} "${field.text}"`);
    }
    for (const field of fields.filter((candidate) => candidate.topic)) {
      for (const name of referencedParameters(field.text)) {
        const declared = value.parameters?.[name];
        if (declared?.pattern !== undefined || declared?.values !== undefined || !used.has(name)) continue;
        out.push(diagnosticAt(file, `/endpoints/${index}${field.at}`, 'CHANNEL_TOPIC_UNBOUNDED',
          `the topic "${field.text}" uses {${name}}, which has neither a pattern nor values: each value opens a consumer of its own, so declare which are allowed in parameters.${name} ("pattern": "[a-z0-9-]+" or "values": [...])`));
      }
    }
    const subscribing = fields.filter((field) => field.side === 'subscribe');
    if (!subscribes(endpoint)) return;
    for (const name of used) {
      if (subscribing.some((field) => referencedParameters(field.text).includes(name))) continue;
      out.push(diagnosticAt(file, subscribing[0] ? `/endpoints/${index}${subscribing[0].at}` : `/endpoints/${index}`, 'CHANNEL_PARAMETER_UNMAPPED',
        subscribing[0]
          ? `the context path parameter {${name}} is not mapped by this endpoint: use it in ${subscribing[0].at.slice(1)} (e.g. "${subscribing[0].text}/{${name}}")`
          : `the context path parameter {${name}} cannot be mapped by a ${endpoint.type} endpoint: remove it from the context path, or use an endpoint that maps channels (docs/guides/channels.md)`));
    }
  });
  for (const [name, declared] of Object.entries(value.parameters ?? {})) {
    if (!used.has(name)) unknown(`/parameters/${name}`, name, 'parameters');
    if (declared.pattern === undefined) continue;
    const problem = regexProblem(declared.pattern);
    if (problem) out.push(diagnosticAt(file, `/parameters/${name}/pattern`, problem.code, `the pattern of parameter ${name}: ${problem.message}`));
  }
  for (const [key, { file: planFile, value: plan }] of model.plans) {
    const bind = (plan as { bind?: Record<string, string> }).bind;
    for (const name of Object.keys(bind ?? {})) {
      if (used.has(name)) continue;
      out.push(diagnosticAt(planFile, `/bind/${name}`, 'CHANNEL_PARAMETER_UNKNOWN', `plan ${key} binds {${name}}, which no context path of API ${model.id} declares`));
    }
  }
  return out;
}
