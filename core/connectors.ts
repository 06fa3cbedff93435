/**
 * Connector capabilities, declared once: what each endpoint type of the schema can do, and the
 * settings of its config a schema cannot check. The table is total over the schema's endpoint
 * `type` union, so a new endpoint type without an entry fails to compile; the compiler's checks
 * read it through publishes / subscribes / resumes / configProblems.
 */
import type { Endpoint, KafkaEndpoint, MqttEndpoint, RabbitmqEndpoint } from '../schemas/types.ts';
import { natsProblems } from './connectors-nats.ts';
import { regexProblem } from './regex.ts';
import type { ConfigProblem } from './config-problem.ts';

export interface EndpointCapabilities<Config> {
  /** Client -> broker: it has an enabled producer (the mock always publishes). */
  publishes(config: Config): boolean;
  /** Broker -> client: it has an enabled consumer (the mock always subscribes). */
  subscribes(config: Config): boolean;
  /** It can resume from a message id (cursor / Last-Event-ID); a function when that depends on the config (NATS: only with a stream). */
  readonly resumes: boolean | ((config: Config) => boolean);
  /** Background subscribers (webhooks) can consume in a group; absent: yes. False: the compiler refuses a webhook entrypoint with `code`. */
  readonly groups?: (config: Config) => { readonly ok: boolean; readonly code?: string; readonly message?: string };
  /** Settings a schema cannot check (topics vs. pattern, SASL vs. protocol, topic filters); `at` is a JSON pointer into the endpoint. */
  problems(config: Config): ConfigProblem[];
  /** Settings that map channel parameters (`{name}` references; docs/guides/channels.md): where, for which side, and the text. */
  channelFields(config: Config): ChannelField[];
}

export interface ChannelField {
  readonly at: string;
  readonly side: 'subscribe' | 'publish';
  readonly text: string;
  /** The field names a broker topic (Kafka): each parameter value is a topic, so one upstream subscription per value. */
  readonly topic?: boolean;
}

export type { ConfigProblem } from './config-problem.ts';

const enabled = (part: { readonly enabled?: boolean } | undefined): boolean => part !== undefined && part.enabled !== false;

export const ENDPOINT_CAPABILITIES: { readonly [K in Endpoint['type']]: EndpointCapabilities<Extract<Endpoint, { type: K }>> } = {
  mock: { publishes: () => true, subscribes: () => true, resumes: true, problems: () => [], channelFields: () => [] },
  kafka: {
    publishes: (config) => enabled(config.producer),
    subscribes: (config) => enabled(config.consumer),
    resumes: true,
    problems: kafkaProblems,
    channelFields: (config) => [
      ...(enabled(config.consumer) ? (config.consumer!.topics ?? []).map((text, i) => ({ at: `/consumer/topics/${i}`, side: 'subscribe' as const, text, topic: true })) : []),
      ...(enabled(config.producer) ? [{ at: '/producer/topic', side: 'publish' as const, text: config.producer!.topic, topic: true }] : []),
      ...(enabled(config.consumer) && config.consumer!.match?.key !== undefined ? [{ at: '/consumer/match/key', side: 'subscribe' as const, text: config.consumer!.match.key }] : []),
      ...Object.entries(enabled(config.consumer) ? config.consumer!.match?.headers ?? {} : {}).map(([name, text]) => ({ at: `/consumer/match/headers/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`, side: 'subscribe' as const, text })),
      ...(enabled(config.producer) && config.producer!.key !== undefined ? [{ at: '/producer/key', side: 'publish' as const, text: config.producer!.key }] : []),
    ],
  },
  mqtt: {
    publishes: (config) => enabled(config.producer),
    subscribes: (config) => enabled(config.consumer),
    resumes: false,
    problems: mqttProblems,
    channelFields: (config) => [
      ...(enabled(config.consumer) ? [{ at: '/consumer/topic', side: 'subscribe' as const, text: config.consumer!.topic }] : []),
      ...(enabled(config.producer) ? [{ at: '/producer/topic', side: 'publish' as const, text: config.producer!.topic }] : []),
    ],
  },
  // Never resumes: a queue keeps no position to return to.
  rabbitmq: {
    publishes: (config) => enabled(config.producer),
    subscribes: (config) => enabled(config.consumer),
    resumes: false,
    problems: rabbitmqProblems,
    channelFields: (config) => [
      ...(enabled(config.consumer) && config.consumer!.exchange !== undefined
        ? [{ at: '/consumer/bindingKey', side: 'subscribe' as const, text: config.consumer!.bindingKey ?? '#' }]
        : []),
      ...(enabled(config.producer) ? [{ at: '/producer/routingKey', side: 'publish' as const, text: config.producer!.routingKey ?? '' }] : []),
    ],
  },
  nats: {
    publishes: (config) => enabled(config.producer),
    subscribes: (config) => enabled(config.consumer),
    resumes: (config) => config.stream !== undefined,
    groups: (config) => (config.stream !== undefined ? { ok: true } : { ok: false, code: 'NATS_STREAM_REQUIRED', message: 'webhooks on NATS need a JetStream stream: add "stream" to the nats endpoint (core subjects keep nothing to acknowledge or redeliver)' }),
    problems: natsProblems,
    channelFields: (config) => [
      ...(enabled(config.consumer) ? [{ at: '/consumer/subject', side: 'subscribe' as const, text: config.consumer!.subject }] : []),
      ...(enabled(config.producer) ? [{ at: '/producer/subject', side: 'publish' as const, text: config.producer!.subject }] : []),
    ],
  },
};

const capabilities = (endpoint: Endpoint): EndpointCapabilities<Endpoint> => ENDPOINT_CAPABILITIES[endpoint.type] as EndpointCapabilities<Endpoint>;

export const publishes = (endpoint: Endpoint): boolean => capabilities(endpoint).publishes(endpoint);
export const subscribes = (endpoint: Endpoint): boolean => capabilities(endpoint).subscribes(endpoint);
export const resumes = (endpoint: Endpoint): boolean => {
  const declared = capabilities(endpoint).resumes;
  return typeof declared === 'function' ? declared(endpoint) : declared;
};
/** Can a webhook consume from it? `code`/`message` say why not. */
export const groups = (endpoint: Endpoint): { readonly ok: boolean; readonly code?: string; readonly message?: string } => capabilities(endpoint).groups?.(endpoint) ?? { ok: true };
export const channelFields = (endpoint: Endpoint): ChannelField[] => capabilities(endpoint).channelFields(endpoint);
export const configProblems = (endpoint: Endpoint): ConfigProblem[] => capabilities(endpoint).problems(endpoint);

function kafkaProblems(endpoint: KafkaEndpoint): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const consumer = endpoint.consumer;
  if (consumer && consumer.topics === undefined && consumer.topicPattern === undefined) {
    out.push({ at: '/consumer', code: 'KAFKA_TOPICS_REQUIRED', message: 'the kafka consumer needs "topics" or "topicPattern"' });
  }
  if (consumer?.topics !== undefined && consumer.topicPattern !== undefined) {
    out.push({ at: '/consumer/topicPattern', code: 'KAFKA_TOPICS_CONFLICT', message: 'the kafka consumer takes "topics" or "topicPattern", not both' });
  }
  if (consumer?.topicPattern !== undefined) {
    const problem = regexProblem(consumer.topicPattern);
    if (problem?.code === 'INVALID_REGEX') out.push({ at: '/consumer/topicPattern', code: 'INVALID_TOPIC_PATTERN', message: `topicPattern is not a valid regular expression: ${problem.message}` });
    else if (problem) out.push({ at: '/consumer/topicPattern', code: 'UNSAFE_REGEX', message: `topicPattern: ${problem.message}` });
  }
  const protocol = endpoint.security?.protocol ?? 'PLAINTEXT';
  const sasl = endpoint.security?.sasl;
  if (sasl && !protocol.startsWith('SASL_')) {
    out.push({ at: '/security/sasl', code: 'KAFKA_SECURITY_MISMATCH', message: `sasl settings need security.protocol SASL_PLAINTEXT or SASL_SSL (it is ${protocol})` });
  }
  if (!sasl && protocol.startsWith('SASL_')) {
    out.push({ at: '/security/protocol', code: 'KAFKA_SECURITY_MISMATCH', message: `security.protocol ${protocol} needs security.sasl (mechanism, username, password)` });
  }
  return out;
}

function mqttProblems(endpoint: MqttEndpoint): ConfigProblem[] {
  if (!endpoint.consumer) return [];
  const problem = topicFilterProblem(endpoint.consumer.topic);
  return problem ? [{ at: '/consumer/topic', code: 'INVALID_TOPIC_FILTER', message: `MQTT topic filter "${endpoint.consumer.topic}" ${problem}` }] : [];
}

/** MQTT rules: "#" only as the whole last level, "+" only as a whole level. */
function topicFilterProblem(filter: string): string | undefined {
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!;
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) return 'may use "#" only as the whole last level (e.g. sensors/#)';
    if (level.includes('+') && level !== '+') return 'may use "+" only as a whole level (e.g. sensors/+/temperature)';
  }
  return undefined;
}

/** The consumer needs exactly one source: a queue, or an exchange with a binding key. */
function rabbitmqProblems(endpoint: RabbitmqEndpoint): ConfigProblem[] {
  const consumer = endpoint.consumer;
  if (!consumer) return [];
  const out: ConfigProblem[] = [];
  if (consumer.queue === undefined && consumer.exchange === undefined) {
    out.push({ at: '/consumer', code: 'RABBITMQ_SOURCE_REQUIRED', message: 'the rabbitmq consumer needs "queue" (consume a queue) or "exchange" (bind a queue to it with "bindingKey")' });
  }
  if (consumer.queue !== undefined && consumer.exchange !== undefined) {
    out.push({ at: '/consumer/exchange', code: 'RABBITMQ_SOURCE_CONFLICT', message: 'the rabbitmq consumer takes "queue" or "exchange", not both' });
  }
  if (consumer.queue !== undefined && consumer.bindingKey !== undefined) {
    out.push({ at: '/consumer/bindingKey', code: 'RABBITMQ_SOURCE_CONFLICT', message: '"bindingKey" binds a queue to "exchange"; a consumer of "queue" takes what the queue holds: remove bindingKey or use exchange' });
  }
  return out;
}
