/**
 * The message payload of each direction: the schema of the first enabled `json-validate` policy of the
 * flow that direction runs (subscribe flow: messages the gateway sends; publish flow: messages it
 * receives), as a JSON Schema draft-07 multi-format schema; else any content (a mock endpoint's
 * `messageContent` as the example).
 */
import type { Api, PolicyStep } from '../../schemas/types.ts';

export interface MessageObject {
  readonly name: string;
  readonly title: string;
  readonly summary: string;
  readonly contentType?: string;
  readonly payload: Record<string, unknown>;
}

export const JSON_SCHEMA_FORMAT = 'application/schema+json;version=draft-07';

function validation(steps: readonly PolicyStep[] | undefined): { schema: Record<string, unknown>; condition?: string } | undefined {
  for (const step of steps ?? []) {
    if (step.enabled === false) continue;
    if (step.policy === 'json-validate') return { schema: step.schema as Record<string, unknown>, condition: step.condition };
  }
  return undefined;
}

/** `flow`: 'subscribe' for messages the gateway sends, 'publish' for those it receives. */
export function messageFor(api: Api, flow: 'publish' | 'subscribe', example: string | undefined): MessageObject {
  const found = validation(api.flows?.[flow]);
  const direction = flow === 'subscribe' ? 'from the broker to clients' : 'from clients to the broker';
  if (found) {
    return {
      name: `${flow}Message`,
      title: flow === 'subscribe' ? 'Message delivered' : 'Message published',
      summary: `A message ${direction}, checked by the ${flow} flow's json-validate policy${found.condition ? ` when ${found.condition}` : ''}.`,
      contentType: 'application/json',
      payload: { schemaFormat: JSON_SCHEMA_FORMAT, schema: found.schema },
    };
  }
  return {
    name: `${flow}Message`,
    title: flow === 'subscribe' ? 'Message delivered' : 'Message published',
    summary: `A message ${direction}; its content is not checked (no json-validate policy in the ${flow} flow).`,
    payload: { description: 'Any content: the message body as the broker holds it.', ...(example !== undefined ? { examples: [example] } : {}) },
  };
}
