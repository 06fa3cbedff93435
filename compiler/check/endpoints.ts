/**
 * Endpoints: broker settings a schema cannot check (Kafka topics vs. topic pattern, a pattern that
 * compiles, SASL vs. protocol, MQTT topic filters). Those rules, and which modes each endpoint type
 * serves, are declared once per connector in core/connectors.ts.
 */
import { diagnosticAt, type Diagnostic } from '../diagnostic.ts';
import type { ApiModel } from './model.ts';
import { configProblems } from '../../core/connectors.ts';

export { groups, publishes, resumes, subscribes } from '../../core/connectors.ts';

export function checkEndpoints(model: ApiModel): Diagnostic[] {
  if (!model.api) return [];
  const { file, value } = model.api;
  return value.endpoints.flatMap((endpoint, index) =>
    configProblems(endpoint).map((problem) => diagnosticAt(file, `/endpoints/${index}${problem.at}`, problem.code, problem.message)));
}
