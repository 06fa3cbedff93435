/**
 * How each entrypoint type looks in an AsyncAPI document: which server it is reached on (http or ws
 * family), which way messages go, and the HTTP method. The table is total over the schema's entrypoint
 * `type` union, so a new entrypoint type without an entry fails to compile.
 *
 * Direction, from the gateway's point of view (an AsyncAPI 3 document describes the application, here
 * the gateway; a client does the opposite): a subscribe entrypoint (http-get, sse, websocket subscriber,
 * webhook) makes the gateway `send` broker messages to the client; a publish entrypoint (http-post,
 * websocket publisher) makes it `receive` messages from the client.
 */
import type { Entrypoint } from '../../schemas/types.ts';

export type ServerFamily = 'http' | 'ws';

export interface EntrypointView<Config> {
  readonly family: ServerFamily;
  /** The gateway sends broker messages to the client (a subscribe mode). */
  sends(config: Config): boolean;
  /** The gateway receives messages from the client (a publish mode). */
  receives(config: Config): boolean;
  /** HTTP method of the request that opens it (webhook: the gateway's POST to the callback). */
  readonly method: 'GET' | 'POST';
  /** It delivers to subscription callbacks (push plans), not to requests: no request security applies. */
  readonly push: boolean;
  /** What a client does, one sentence. */
  readonly how: string;
}

const always = (): boolean => true;
const never = (): boolean => false;

export const ENTRYPOINT_VIEWS: { readonly [K in Entrypoint['type']]: EntrypointView<Extract<Entrypoint, { type: K }>> } = {
  'http-get': { push: false, family: 'http', sends: always, receives: never, method: 'GET', how: 'Long poll: GET the context path; the answer holds the messages as `items` and a `pagination.nextCursor` to resume from (`?cursor=`).' },
  'http-post': { push: false, family: 'http', sends: never, receives: always, method: 'POST', how: 'POST one message as the request body; 202 once the broker has it.' },
  sse: { push: false, family: 'http', sends: always, receives: never, method: 'GET', how: 'Server-sent events: `new EventSource(url)`; each message is one event, resumable with Last-Event-ID.' },
  websocket: {
    family: 'ws',
    sends: (config) => config.subscriber !== false,
    receives: (config) => config.publisher !== false,
    push: false,
    method: 'GET',
    how: 'WebSocket: `new WebSocket(url)`; each frame is one message.',
  },
  webhook: { push: true, family: 'http', sends: always, receives: never, method: 'POST', how: 'Push: the gateway POSTs each message to the callbackUrl of a subscription of a push plan (declared in the API folder, not over this server).' },
};

export const entrypointView = (entrypoint: Entrypoint): EntrypointView<Entrypoint> => ENTRYPOINT_VIEWS[entrypoint.type] as EntrypointView<Entrypoint>;
