/**
 * CORS of one API, compiled once per bundle. Without settings the gateway adds no header and
 * checks nothing (browsers then refuse cross-origin reads). With settings: a request whose
 * Origin is not allowed gets 403; a request without Origin is never refused. `compileCors`
 * throws for `*` with credentials (the API then fails to build). A same-origin request (its Origin
 * names the host it was sent to: the developer catalog's try-it panel on the gateway port) is not
 * a cross-origin one and is never refused (`sameOrigin`).
 */
import type { Cors } from '../../schemas/types.ts';

export interface CorsPolicy {
  /** Is this Origin header value allowed? */
  allows(origin: string): boolean;
  /** Headers for an actual (non-preflight) response to an allowed origin. */
  responseHeaders(origin: string): Record<string, string>;
  /** Headers answering a preflight from an allowed origin. */
  preflightHeaders(origin: string, requestHeaders: string | undefined): Record<string, string>;
}

export function compileCors(config: Cors | undefined): CorsPolicy | null {
  if (!config) return null;
  const any = config.allowOrigins.includes('*');
  const origins = new Set(config.allowOrigins.map((o) => o.replace(/\/$/, '').toLowerCase()));
  const credentials = config.allowCredentials === true;
  // Every origin with credentials would let any page read with the user's cookies; the compiler
  // refuses it (CORS_WILDCARD_CREDENTIALS) and so does the runtime, for bundles made otherwise.
  if (any && credentials) throw new Error('cors: allowOrigins "*" cannot be combined with allowCredentials true');
  const methods = (config.allowMethods ?? ['GET', 'POST', 'OPTIONS']).join(', ');
  const allowHeaders = config.allowHeaders ?? ['Content-Type', 'Authorization', 'X-Api-Key', 'Last-Event-ID'];
  const expose = (config.exposeHeaders ?? []).join(', ');
  const maxAge = String(config.maxAgeSeconds ?? 600);

  const base = (origin: string): Record<string, string> => {
    const headers: Record<string, string> = {};
    if (any && !credentials) headers['Access-Control-Allow-Origin'] = '*';
    else {
      headers['Access-Control-Allow-Origin'] = origin;
      headers['Vary'] = 'Origin';
    }
    if (credentials) headers['Access-Control-Allow-Credentials'] = 'true';
    return headers;
  };

  return {
    allows: (origin) => any || origins.has(origin.toLowerCase()),
    responseHeaders: (origin) => {
      const headers = base(origin);
      if (expose) headers['Access-Control-Expose-Headers'] = expose;
      return headers;
    },
    preflightHeaders: (origin, requestHeaders) => {
      const headers = base(origin);
      headers['Access-Control-Allow-Methods'] = methods;
      // "*" in allowHeaders echoes what the browser asked for.
      headers['Access-Control-Allow-Headers'] = allowHeaders.includes('*') && requestHeaders ? requestHeaders : allowHeaders.join(', ');
      headers['Access-Control-Max-Age'] = maxAge;
      return headers;
    },
  };
}

/**
 * Is `origin` the origin the request was sent to (same host and port as its Host header)? Browsers
 * set both: a page served by the gateway itself (the catalog) calling one of its APIs.
 */
export function sameOrigin(origin: string, host: string | undefined): boolean {
  if (!host) return false;
  try {
    const from = new URL(origin);
    return (from.protocol === 'http:' || from.protocol === 'https:') && from.host === new URL(`${from.protocol}//${host}`).host;
  } catch {
    return false;
  }
}
