/** The kafkajs client configuration of a Kafka endpoint (security, timeouts, logging) and what its errors mean (kafka.ts, group.ts). */
import { logLevel, type KafkaConfig, type SASLOptions } from 'kafkajs';
import type { KafkaEndpoint as KafkaEndpointConfig } from '../../../schemas/types.ts';
import type { EndpointContext } from '../endpoint.ts';
import { GatewayError } from '../../../core/errors.ts';
import type { log } from '../../log.ts';

export function clientConfig(config: KafkaEndpointConfig, context: EndpointContext, logger: typeof log): KafkaConfig {
  const protocol = config.security?.protocol ?? 'PLAINTEXT';
  const useSsl = protocol === 'SSL' || protocol === 'SASL_SSL';
  const useSasl = protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL';
  const sasl = config.security?.sasl;
  if (useSasl && !sasl) throw new Error(`kafka endpoint of API ${context.apiId}: security.protocol ${protocol} needs security.sasl`);
  const ssl = config.security?.ssl;
  return {
    clientId: config.clientId ?? `sluice-${context.apiId}`,
    brokers: [...config.bootstrapServers],
    connectionTimeout: 3_000,
    requestTimeout: 10_000,
    retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 1_000 },
    ssl: useSsl ? { ...(ssl?.ca ? { ca: [ssl.ca] } : {}), rejectUnauthorized: ssl?.rejectUnauthorized ?? true } : false,
    ...(useSasl && sasl
      ? {
          sasl: {
            mechanism: sasl.mechanism.toLowerCase(),
            username: sasl.username,
            password: context.resolveSecret(sasl.password),
          } as SASLOptions,
        }
      : {}),
    logLevel: logLevel.WARN,
    logCreator: () => ({ namespace, level, log: entry }) => {
      // kafkajs is chatty about retries we already report through health(); keep it at debug.
      logger.debug({ kafkajs: namespace, level, detail: entry.message }, 'kafkajs');
    },
  };
}

export function rootCause(error: unknown): Error & { type?: string; retriable?: boolean } {
  let current = error as Error & { cause?: unknown; type?: string; retriable?: boolean };
  for (let i = 0; i < 10 && current?.cause; i++) current = current.cause as typeof current;
  return current;
}

export function describe(error: unknown): string {
  const root = rootCause(error);
  return root?.message ?? String(error);
}

export function isUnknownTopic(error: unknown): boolean {
  return rootCause(error)?.type === 'UNKNOWN_TOPIC_OR_PARTITION';
}

/** A broker that is up but refuses the record: not an outage, so no 503. */
export function brokerRefusal(error: unknown): GatewayError | undefined {
  const root = rootCause(error);
  if (root?.type === 'MESSAGE_TOO_LARGE' || root?.type === 'RECORD_LIST_TOO_LARGE') {
    return new GatewayError('PAYLOAD_TOO_LARGE', 413, 'Kafka refused the message: it is larger than the topic allows.', 1009);
  }
  if (root?.type && root.retriable === false && root.type !== 'UNKNOWN_TOPIC_OR_PARTITION') {
    return new GatewayError('BROKER_REFUSED', 502, `Kafka refused the message: ${root.type}.`, 1011);
  }
  return undefined;
}
