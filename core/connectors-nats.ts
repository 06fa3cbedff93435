/** NATS endpoint settings a schema cannot check: subjects' tokens and wildcards, one credential kind. */
import type { NatsEndpoint } from '../schemas/types.ts';
import type { ConfigProblem } from './config-problem.ts';
import { wildcardReferences } from './channel.ts';

export function natsProblems(endpoint: NatsEndpoint): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const consumer = endpoint.consumer;
  if (consumer) {
    const problem = subjectProblem(wildcardReferences(consumer.subject, '*'), true);
    if (problem) out.push({ at: '/consumer/subject', code: 'INVALID_SUBJECT', message: `NATS subject "${consumer.subject}" ${problem}` });
  }
  if (endpoint.producer) {
    const problem = subjectProblem(wildcardReferences(endpoint.producer.subject, 'x'), false);
    if (problem) out.push({ at: '/producer/subject', code: 'INVALID_SUBJECT', message: `NATS subject "${endpoint.producer.subject}" ${problem}` });
  }
  if (consumer?.maxReplay !== undefined && endpoint.stream === undefined) {
    out.push({ at: '/consumer/maxReplay', code: 'NATS_STREAM_REQUIRED', message: 'consumer.maxReplay bounds resuming from a cursor, which needs a JetStream stream: add "stream" or remove maxReplay' });
  }
  const kinds = (['auth', 'token', 'nkey', 'credentials'] as const).filter((kind) => endpoint.security?.[kind] !== undefined);
  if (kinds.length > 1) {
    out.push({ at: `/security/${kinds[1]}`, code: 'NATS_SECURITY_CONFLICT', message: `security takes one of auth, token, nkey, credentials (it has ${kinds.join(' and ')})` });
  }
  return out;
}

/** Why a subject is not a valid NATS subject (`wildcards`: a subscription may use * and >), or undefined. */
function subjectProblem(subject: string, wildcards: boolean): string | undefined {
  const tokens = subject.split('.');
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token === '') return 'has an empty token (".." or a leading or trailing ".")';
    if (!wildcards && (token.includes('*') || token.includes('>'))) return 'may not use wildcards (* or >)';
    if (token.includes('>') && (token !== '>' || i !== tokens.length - 1)) return 'may use ">" only as the whole last token (e.g. orders.>)';
    if (token.includes('*') && token !== '*') return 'may use "*" only as a whole token (e.g. orders.*.created)';
  }
  return undefined;
}
