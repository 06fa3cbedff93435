/**
 * One API of a compiled bundle as an AsyncAPI 3.0.0 document: a pure function (no I/O), used by
 * `sluice asyncapi` and by the runtime's developer catalog (`/catalog/<api>/asyncapi.json`).
 *
 *   servers     one per protocol family the entrypoints use: `http` (http-get, http-post, sse) and
 *               `ws` (websocket), on `serverUrl` (https:// gives https and wss)
 *   channels    one per context path and server family, address = the context path; the broker side
 *               (kafka/mqtt topics, mock) as the `x-sluice-broker` extension
 *   operations  one per entrypoint, direction and context path, from the gateway's point of view:
 *               `send` = the gateway delivers broker messages to clients (http-get, sse, websocket
 *               subscriber, webhook); `receive` = it takes messages from clients (http-post, websocket
 *               publisher)
 *   security    the schemes of the published and deprecated plans (core/asyncapi/security.ts), on
 *               each non-webhook operation; none when a keyless plan lets anyone call
 *   messages    payload from the flow's json-validate policy (core/asyncapi/payload.ts)
 *
 * Subscriptions (credentials, callbacks) never appear.
 */
import { parseTemplate } from '../channel.ts';
import type { Api, BundleApi, Entrypoint, Plan } from '../../schemas/types.ts';
import { isOpen, pushes } from '../plans.ts';
import { entrypointView, type ServerFamily } from './entrypoints.ts';
import { endpointExtension, knownContent } from './endpoints.ts';
import { messageFor, type MessageObject } from './payload.ts';
import { planSchemes, type SecurityScheme } from './security.ts';

export interface AsyncApiOptions {
  /** Where clients reach the gateway, e.g. `http://localhost:8082` (a path prefix is kept). */
  readonly serverUrl: string;
}

export type AsyncApiDocument = Record<string, unknown> & { asyncapi: '3.0.0' };

export const DEFAULT_SERVER_URL = 'http://localhost:8082';

const VISIBLE_PLAN = new Set<Plan['status']>(['published', 'deprecated']);

/** Channel and operation ids: letters, digits, - and _ only. */
const slug = (path: string): string => path.replace(/^\/+|\/+$/g, '').replace(/[^A-Za-z0-9_-]+/g, '_') || 'root';

function servers(url: URL, families: ReadonlySet<ServerFamily>): Record<string, Record<string, unknown>> {
  const secure = url.protocol === 'https:';
  const pathname = url.pathname.replace(/\/+$/, '');
  const out: Record<string, Record<string, unknown>> = {};
  for (const family of ['http', 'ws'] as const) {
    if (!families.has(family)) continue;
    out[family] = {
      host: url.host,
      protocol: family === 'http' ? (secure ? 'https' : 'http') : secure ? 'wss' : 'ws',
      ...(pathname ? { pathname } : {}),
      description: family === 'http' ? 'The gateway over HTTP (long poll, POST, server-sent events, webhook subscriptions).' : 'The gateway over WebSocket.',
    };
  }
  return out;
}

function security(plans: Record<string, Plan>): { schemes: Record<string, SecurityScheme>; required: boolean } {
  const visible = Object.entries(plans).filter(([, plan]) => VISIBLE_PLAN.has(plan.status ?? 'staging'));
  const schemes: Record<string, SecurityScheme> = {};
  for (const [key, plan] of visible) {
    for (const [name, scheme] of Object.entries(planSchemes(plan))) schemes[`${slug(key)}-${name}`] = scheme;
  }
  const open = visible.some(([, plan]) => isOpen(plan.type));
  return { schemes, required: !open && Object.keys(schemes).length > 0 };
}

function planSummary(plans: Record<string, Plan>): string {
  const visible = Object.entries(plans).filter(([, plan]) => VISIBLE_PLAN.has(plan.status ?? 'staging'));
  if (!visible.length) return 'No published plan: nobody can call it yet.';
  return `Plans: ${visible.map(([key, plan]) => `${plan.name} (${key}, ${plan.type}${plan.status === 'deprecated' ? ', deprecated' : ''})`).join('; ')}.`;
}

interface Direction {
  readonly action: 'send' | 'receive';
  readonly message: MessageObject;
}

function operationsOf(entrypoint: Entrypoint, sent: MessageObject, received: MessageObject): Direction[] {
  const view = entrypointView(entrypoint);
  return [...(view.sends(entrypoint) ? [{ action: 'send' as const, message: sent }] : []), ...(view.receives(entrypoint) ? [{ action: 'receive' as const, message: received }] : [])];
}

export function buildAsyncApi(api: BundleApi, options: AsyncApiOptions = { serverUrl: DEFAULT_SERVER_URL }): AsyncApiDocument {
  const definition: Api = api.definition;
  const url = new URL(options.serverUrl);
  const families = new Set(definition.entrypoints.map((e) => entrypointView(e).family));
  const sent = messageFor(definition, 'subscribe', knownContent(definition.endpoints));
  const received = messageFor(definition, 'publish', undefined);
  const { schemes, required } = security(api.plans);
  const securityRefs = required ? Object.keys(schemes).map((name) => ({ $ref: `#/components/securitySchemes/${name}` })) : undefined;
  const broker = definition.endpoints.map(endpointExtension);
  const pushPlans = Object.entries(api.plans)
    .filter(([, plan]) => pushes(plan.type) && VISIBLE_PLAN.has(plan.status ?? 'staging'))
    .map(([key, plan]) => `${plan.name} (${key})`)
    .join(', ');

  const channels: Record<string, Record<string, unknown>> = {};
  const operations: Record<string, Record<string, unknown>> = {};
  const usedMessages = new Map<string, MessageObject>();
  const multiplePaths = definition.contextPaths.length > 1;

  for (const path of definition.contextPaths) {
    for (const entrypoint of definition.entrypoints) {
      const view = entrypointView(entrypoint);
      const channelId = `${slug(path)}-${view.family}`;
      const channel = (channels[channelId] ??= {
        address: path,
        ...channelParameters(path, definition.parameters),
        title: `${definition.name} (${view.family === 'ws' ? 'WebSocket' : 'HTTP'})`,
        servers: [{ $ref: `#/servers/${view.family}` }],
        messages: {},
        ...(view.family === 'ws' ? { bindings: { ws: { method: 'GET', bindingVersion: '0.1.0' } } } : {}),
        'x-sluice-broker': broker,
      });
      for (const { action, message } of operationsOf(entrypoint, sent, received)) {
        (channel.messages as Record<string, unknown>)[message.name] = { $ref: `#/components/messages/${message.name}` };
        usedMessages.set(message.name, message);
        const push = view.push;
        const id = `${action}-${entrypoint.type}${multiplePaths ? `-${slug(path)}` : ''}`;
        operations[id] = {
          action,
          channel: { $ref: `#/channels/${channelId}` },
          title: `${entrypoint.type} ${action === 'send' ? '(gateway sends to clients)' : '(gateway receives from clients)'}`,
          description: push ? `${view.how}${pushPlans ? ` Push plans: ${pushPlans}.` : ' No published push plan yet.'}` : view.how,
          messages: [{ $ref: `#/channels/${channelId}/messages/${message.name}` }],
          ...(securityRefs && !push ? { security: securityRefs } : {}),
          ...(view.family === 'http' ? { bindings: { http: { method: view.method, bindingVersion: '0.3.0' } } } : {}),
          'x-sluice-entrypoint': entrypoint.type,
        };
      }
    }
  }

  const messages: Record<string, unknown> = {};
  for (const [name, message] of usedMessages) {
    const { name: _name, ...rest } = message;
    messages[name] = { name, ...rest };
  }

  const description = [definition.description, planSummary(api.plans)].filter(Boolean).join('\n\n');
  return {
    asyncapi: '3.0.0',
    id: `urn:sluice:api:${api.id}`,
    info: {
      title: definition.name,
      version: definition.version ?? '1.0',
      description,
      ...(definition.labels?.length ? { tags: definition.labels.map((name) => ({ name })) } : {}),
      'x-sluice-lifecycle': definition.lifecycle ?? 'unpublished',
      'x-sluice-visibility': definition.visibility ?? 'private',
    },
    servers: servers(url, families),
    channels,
    operations,
    components: { messages, ...(Object.keys(schemes).length ? { securitySchemes: schemes } : {}) },
  };
}

/** A context path template's parameters as AsyncAPI channel parameters (docs/guides/channels.md). */
function channelParameters(path: string, declared: Readonly<Record<string, { description?: string; pattern?: string }>> | undefined): { parameters?: Record<string, Record<string, string>> } {
  let names: readonly string[] = [];
  try {
    names = parseTemplate(path)?.parameters ?? [];
  } catch {
    return {};
  }
  if (names.length === 0) return {};
  return {
    parameters: Object.fromEntries(names.map((name) => {
      const rule = declared?.[name];
      const text = [rule?.description, rule?.pattern !== undefined ? `Pattern: ${rule.pattern}` : undefined].filter(Boolean).join(' ');
      const parameter: Record<string, string> = text ? { description: text } : {};
      return [name, parameter];
    })),
  };
}
