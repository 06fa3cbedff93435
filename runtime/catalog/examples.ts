/**
 * A copy-paste example per entrypoint type (a total table: a new entrypoint type without an
 * example fails to compile): curl for HTTP GET and POST, `new EventSource`, `new WebSocket`, and
 * the subscription file a webhook delivery needs. Plain text: the renderer escapes it.
 */
import type { Entrypoint } from '../../schemas/types.ts';
import type { CatalogApi, CatalogPlan } from './model.ts';

export interface Example {
  readonly title: string;
  /** What the code is (shown above it): "sh", "js", a file name. */
  readonly language: string;
  readonly code: string;
  readonly note?: string;
}

export interface ExampleContext {
  readonly api: CatalogApi;
  /** The gateway's origin, e.g. https://gateway.example.com (no trailing slash). */
  readonly origin: string;
  /** The API's first context path without its trailing slash. */
  readonly path: string;
  /** The plan the example calls with (undefined: the API serves no plan a client can call). */
  readonly plan: CatalogPlan | undefined;
}

/** A placeholder for the caller's credential, e.g. YOUR_API_KEY. */
function placeholder(plan: CatalogPlan | undefined): string {
  return `YOUR_${(plan?.credential?.name ?? 'credential').toUpperCase().replace(/[^A-Z0-9]+/g, '_')}`;
}

const quote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;

/** curl's header option for the plan's credential, if it takes one. */
function curlCredential(plan: CatalogPlan | undefined): string {
  const credential = plan?.credential;
  return credential ? ` -H ${quote(`${credential.header}: ${credential.prefix}${placeholder(plan)}`)}` : '';
}

/** A URL for clients that cannot set headers (EventSource, WebSocket): the credential in its query parameter. */
function urlWithCredential(base: string, plan: CatalogPlan | undefined): string {
  const credential = plan?.credential;
  return credential ? `${base}?${credential.queryParam}=${placeholder(plan)}` : base;
}

type Examples = { readonly [K in Entrypoint['type']]: (context: ExampleContext, config: Extract<Entrypoint, { type: K }>) => Example };

const EXAMPLES: Examples = {
  'http-get': ({ origin, path, plan }) => ({
    title: 'HTTP GET (long poll)',
    language: 'sh',
    code: `curl${curlCredential(plan)} ${quote(`${origin}${path}?limit=10`)}`,
    note: 'Answers with {"items": [...], "pagination": {"nextCursor": ...}}; pass ?cursor=NEXT to read on.',
  }),
  'http-post': ({ origin, path, plan }) => ({
    title: 'HTTP POST (publish one message)',
    language: 'sh',
    code: `curl -X POST${curlCredential(plan)} -H 'Content-Type: application/json' --data '{"hello": "world"}' ${quote(`${origin}${path}`)}`,
    note: 'The body becomes one message: 202 Accepted.',
  }),
  sse: ({ origin, path, plan }) => ({
    title: 'Server-Sent Events',
    language: 'js',
    code: [
      `const source = new EventSource(${quote(urlWithCredential(`${origin}${path}`, plan))});`,
      "source.onmessage = (event) => console.log(event.lastEventId, event.data);",
    ].join('\n'),
    note: 'EventSource reconnects by itself and resumes with Last-Event-ID.',
  }),
  websocket: ({ origin, path, plan }, config) => ({
    title: 'WebSocket',
    language: 'js',
    code: [
      `const ws = new WebSocket(${quote(urlWithCredential(`${origin.replace(/^http/, 'ws')}${path}`, plan))});`,
      ...(config.subscriber === false ? [] : ['ws.onmessage = (event) => console.log(event.data);']),
      ...(config.publisher === false ? [] : ["ws.onopen = () => ws.send(JSON.stringify({ hello: 'world' }));"]),
    ].join('\n'),
    note: `${config.subscriber === false ? '' : 'Each message arrives as one frame. '}${config.publisher === false ? '' : 'Each frame sent is one message. '}Close code 1012: the API was redeployed, reconnect.`,
  }),
  webhook: ({ api }) => {
    const push = api.plans.find((plan) => plan.pushes);
    const file = { $schema: '../../../schemas/subscription.schema.json', plan: push?.key ?? 'PUSH_PLAN', description: 'Your application', webhook: { callbackUrl: 'https://your-app.example.com/hooks/messages' } };
    return {
      title: 'Webhook (messages POSTed to your callback)',
      language: `apis/${api.id}/subscriptions/your-app.json`,
      code: JSON.stringify(file, null, 2),
      note: 'The API owner adds this file (a pull request to the APIs repository); each message is then POSTed to the callback URL.',
    };
  },
};

/** How a browser streams from an entrypoint of each type in the try-it panel, if it can (total, like EXAMPLES). */
const STREAMS: { readonly [K in Entrypoint['type']]: (config: Extract<Entrypoint, { type: K }>) => 'eventsource' | 'websocket' | undefined } = {
  'http-get': () => undefined,
  'http-post': () => undefined,
  sse: () => 'eventsource',
  websocket: (config) => (config.subscriber === false ? undefined : 'websocket'),
  webhook: () => undefined,
};

export function streamOf(entrypoint: Entrypoint): 'eventsource' | 'websocket' | undefined {
  return (STREAMS[entrypoint.type] as (config: Entrypoint) => 'eventsource' | 'websocket' | undefined)(entrypoint);
}

export function exampleFor(context: ExampleContext, entrypoint: Entrypoint): Example {
  const build = EXAMPLES[entrypoint.type] as (context: ExampleContext, config: Entrypoint) => Example;
  return build(context, entrypoint);
}
