/**
 * Endpoints: broker settings a schema cannot check (Kafka topics vs. topic pattern, a pattern that
 * compiles, SASL vs. protocol, MQTT topic filters). Which modes each endpoint type serves is
 * declared once in core/connectors.ts.
 */
import type { Endpoint } from '../../schemas/types.ts';
import { diagnosticAt, type Diagnostic } from '../diagnostic.ts';
import type { ApiModel } from './model.ts';
import { regexProblem } from '../../core/regex.ts';

export { publishes, resumes, subscribes } from '../../core/connectors.ts';

export function checkEndpoints(model: ApiModel): Diagnostic[] {
  if (!model.api) return [];
  const { file, value } = model.api;
  const out: Diagnostic[] = [];
  value.endpoints.forEach((endpoint, index) => {
    const at = `/endpoints/${index}`;
    if (endpoint.type === 'kafka') {
      const consumer = endpoint.consumer;
      if (consumer && consumer.topics === undefined && consumer.topicPattern === undefined) {
        out.push(diagnosticAt(file, `${at}/consumer`, 'KAFKA_TOPICS_REQUIRED', 'the kafka consumer needs "topics" or "topicPattern"'));
      }
      if (consumer?.topics !== undefined && consumer.topicPattern !== undefined) {
        out.push(diagnosticAt(file, `${at}/consumer/topicPattern`, 'KAFKA_TOPICS_CONFLICT', 'the kafka consumer takes "topics" or "topicPattern", not both'));
      }
      if (consumer?.topicPattern !== undefined) {
        const problem = regexProblem(consumer.topicPattern);
        if (problem?.code === 'INVALID_REGEX') out.push(diagnosticAt(file, `${at}/consumer/topicPattern`, 'INVALID_TOPIC_PATTERN', `topicPattern is not a valid regular expression: ${problem.message}`));
        else if (problem) out.push(diagnosticAt(file, `${at}/consumer/topicPattern`, 'UNSAFE_REGEX', `topicPattern: ${problem.message}`));
      }
      const protocol = endpoint.security?.protocol ?? 'PLAINTEXT';
      const sasl = endpoint.security?.sasl;
      if (sasl && !protocol.startsWith('SASL_')) {
        out.push(diagnosticAt(file, `${at}/security/sasl`, 'KAFKA_SECURITY_MISMATCH', `sasl settings need security.protocol SASL_PLAINTEXT or SASL_SSL (it is ${protocol})`));
      }
      if (!sasl && protocol.startsWith('SASL_')) {
        out.push(diagnosticAt(file, `${at}/security/protocol`, 'KAFKA_SECURITY_MISMATCH', `security.protocol ${protocol} needs security.sasl (mechanism, username, password)`));
      }
    } else if (endpoint.type === 'mqtt' && endpoint.consumer) {
      const problem = topicFilterProblem(endpoint.consumer.topic);
      if (problem) out.push(diagnosticAt(file, `${at}/consumer/topic`, 'INVALID_TOPIC_FILTER', `MQTT topic filter "${endpoint.consumer.topic}" ${problem}`));
    }
  });
  return out;
}

/** MQTT rules: "#" only as the whole last level, "+" only as a whole level. */
function topicFilterProblem(filter: string): string | undefined {
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i];
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) return 'may use "#" only as the whole last level (e.g. sensors/#)';
    if (level.includes('+') && level !== '+') return 'may use "+" only as a whole level (e.g. sensors/+/temperature)';
  }
  return undefined;
}
