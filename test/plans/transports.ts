/**
 * One credential attempt over each client protocol, reduced to {status, code, headers}: what the
 * plan tests compare across HTTP GET, HTTP POST, SSE and the WebSocket handshake.
 */
import type { Gateway } from '../../runtime/gateway.ts';
import { connect, HandshakeRefused, within, wsUrl } from '../support/harness.ts';

export interface Credentials {
  readonly headers?: Record<string, string>;
  /** Query string without `?`. */
  readonly query?: string;
}

export interface Outcome {
  readonly status: number;
  readonly code?: string;
  readonly headers: Record<string, string>;
}

export type Transport = (gateway: Gateway, path: string, credentials: Credentials) => Promise<Outcome>;

function target(gateway: Gateway, path: string, credentials: Credentials, extra = ''): string {
  const query = [extra, credentials.query ?? ''].filter(Boolean).join('&');
  return `${gateway.url}${path}${query ? `?${query}` : ''}`;
}

async function outcome(response: Response): Promise<Outcome> {
  const headers = Object.fromEntries(response.headers.entries());
  if (response.ok) {
    await response.body?.cancel();
    return { status: response.status, headers };
  }
  const text = await response.text();
  let code: string | undefined;
  try {
    code = (JSON.parse(text) as { code?: string }).code;
  } catch {
    code = undefined;
  }
  return { status: response.status, code, headers };
}

export const httpGet: Transport = async (gateway, path, credentials) =>
  outcome(await fetch(target(gateway, path, credentials, 'limit=1'), { headers: { accept: 'application/json', ...credentials.headers } }));

export const httpPost: Transport = async (gateway, path, credentials) =>
  outcome(await fetch(target(gateway, path, credentials), {
    method: 'POST',
    headers: { 'content-type': 'text/plain', ...credentials.headers },
    body: 'hello',
  }));

/** SSE: the status and headers of the stream's response; the stream is cancelled right away. */
export const sse: Transport = async (gateway, path, credentials) => {
  const controller = new AbortController();
  const response = await fetch(target(gateway, path, credentials), {
    headers: { accept: 'text/event-stream', ...credentials.headers },
    signal: controller.signal,
  });
  if (response.ok) {
    const headers = Object.fromEntries(response.headers.entries());
    controller.abort();
    return { status: response.status, headers };
  }
  return outcome(response);
};

/** 101 when the handshake is accepted (the socket is then closed), else the refusal's status and JSON code. */
export const websocketHandshake: Transport = async (gateway, path, credentials) => {
  const url = wsUrl(gateway, path) + (credentials.query ? `?${credentials.query}` : '');
  const client = connect(url, { headers: credentials.headers });
  try {
    await within(client.opened, 5_000, `the handshake of ${path}`);
    client.ws.close(1000);
    return { status: 101, headers: {} };
  } catch (error) {
    if (!(error instanceof HandshakeRefused)) throw error;
    let code: string | undefined;
    try {
      code = (JSON.parse(error.body) as { code?: string }).code;
    } catch {
      code = undefined;
    }
    const headers = Object.fromEntries(Object.entries(error.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v)]));
    return { status: error.status, code, headers };
  }
};
