/**
 * Gravitee `api.listeners` -> Sluice `contextPaths`, `entrypoints` and `cors`. HTTP listeners carry
 * paths and the http-get, http-post, websocket and sse entrypoints; a SUBSCRIPTION listener carries
 * the webhook entrypoint. Entrypoint configurations keep the fields Sluice shares with Gravitee.
 */
import type { Cors, Entrypoint } from '../../../schemas/types.ts';
import { asArray, isEmpty, isObject, token, type Warnings } from './warnings.ts';

interface EntrypointConverter {
  /** Gravitee configuration keys copied as they are. */
  readonly same: readonly string[];
  /** Gravitee qos values Sluice accepts for it (lowercase, dashes). */
  readonly qos: readonly string[];
  /** Keys handled by `extra`. */
  readonly handled?: readonly string[];
  extra?(config: Record<string, unknown>): Record<string, unknown>;
}

const enabledOf = (value: unknown): boolean | undefined => (isObject(value) && typeof value.enabled === 'boolean' ? value.enabled : undefined);

/** By Gravitee entrypoint type (the same names as Sluice's). */
const ENTRYPOINTS: Record<string, EntrypointConverter> = {
  'http-get': { same: ['messagesLimitCount', 'messagesLimitDurationMs', 'headersInPayload', 'metadataInPayload'], qos: ['auto', 'at-most-once', 'at-least-once'] },
  'http-post': { same: ['requestHeadersToMessage'], qos: ['none', 'auto'] },
  sse: { same: ['heartbeatIntervalInMs', 'metadataAsComment', 'headersAsComment'], qos: ['none', 'auto', 'at-least-once'] },
  websocket: {
    same: [],
    qos: ['none', 'auto'],
    handled: ['publisher', 'subscriber'],
    extra: (config) => {
      const out: Record<string, unknown> = {};
      const publisher = enabledOf(config.publisher);
      const subscriber = enabledOf(config.subscriber);
      if (publisher !== undefined) out.publisher = publisher;
      if (subscriber !== undefined) out.subscriber = subscriber;
      return out;
    },
  },
  webhook: { same: [], qos: ['none', 'auto', 'at-most-once', 'at-least-once'] },
};

export interface ListenersResult {
  contextPaths: string[];
  entrypoints: Entrypoint[];
  cors?: Cors;
}

export function convertListeners(listeners: unknown, warnings: Warnings): ListenersResult {
  const contextPaths: string[] = [];
  const entrypoints: Entrypoint[] = [];
  let cors: Cors | undefined;
  asArray(listeners).forEach((listener, l) => {
    const at = `$.api.listeners[${l}]`;
    if (!isObject(listener)) return;
    const kind = token(listener.type);
    if (kind !== 'http' && kind !== 'subscription') {
      warnings.notCarried(`${at}.type`, `listener type "${String(listener.type)}" is not supported (Sluice serves HTTP, WebSocket, SSE and webhooks); left out with its entrypoints`);
      return;
    }
    asArray(listener.paths).forEach((entry, p) => {
      if (!isObject(entry)) return;
      if (typeof entry.path === 'string' && !contextPaths.includes(entry.path)) contextPaths.push(entry.path);
      if (!isEmpty(entry.host)) warnings.notCarried(`${at}.paths[${p}].host`, `virtual host "${String(entry.host)}" is not supported: Sluice routes by path only; the path is kept`);
      if (entry.overrideAccess === true) warnings.notCarried(`${at}.paths[${p}].overrideAccess`, 'overrideAccess (virtual hosts) has no Sluice equivalent; left out');
    });
    if (isObject(listener.cors) && listener.cors.enabled === true) cors = convertCors(listener.cors, `${at}.cors`, warnings);
    warnings.rest(at, listener, ['type', 'paths', 'entrypoints', 'cors', 'pathMappings', 'servers'], 'listener');
    asArray(listener.pathMappings).length && warnings.notCarried(`${at}.pathMappings`, 'path mappings (analytics) have no Sluice equivalent; left out');
    asArray(listener.entrypoints).forEach((entrypoint, e) => {
      const converted = convertEntrypoint(entrypoint, `${at}.entrypoints[${e}]`, warnings);
      if (converted) entrypoints.push(converted);
    });
  });
  return { contextPaths, entrypoints, ...(cors ? { cors } : {}) };
}

function convertEntrypoint(entrypoint: unknown, at: string, warnings: Warnings): Entrypoint | undefined {
  if (!isObject(entrypoint)) return undefined;
  const type = String(entrypoint.type);
  const converter = ENTRYPOINTS[type];
  if (!converter) {
    warnings.notCarried(`${at}.type`, `entrypoint "${type}" is not supported (Sluice has http-get, http-post, websocket, sse, webhook); left out`);
    return undefined;
  }
  const out: Record<string, unknown> = { type };
  const config = isObject(entrypoint.configuration) ? entrypoint.configuration : {};
  for (const key of converter.same) if (config[key] !== undefined) out[key] = config[key];
  Object.assign(out, converter.extra?.(config) ?? {});
  warnings.rest(`${at}.configuration`, config, [...converter.same, ...(converter.handled ?? [])], `${type} entrypoint`);
  if (entrypoint.qos !== undefined) {
    const qos = token(entrypoint.qos);
    if (converter.qos.includes(qos)) {
      if (qos !== 'auto') out.qos = qos;
    } else {
      warnings.notCarried(`${at}.qos`, `qos "${String(entrypoint.qos)}" is not available on ${type} in Sluice (${converter.qos.join(', ')}); the default (auto) applies`);
    }
  }
  warnings.rest(at, entrypoint, ['type', 'qos', 'configuration', 'dlq'], `${type} entrypoint`);
  if (!isEmpty(entrypoint.dlq)) warnings.notCarried(`${at}.dlq`, 'the entrypoint dead letter queue has no Sluice equivalent here: a webhook subscription names its own deadLetter topic (subscriptions/*.json)');
  return out as unknown as Entrypoint;
}

function convertCors(cors: Record<string, unknown>, at: string, warnings: Warnings): Cors | undefined {
  const origins = asArray(cors.allowOrigin).filter((o): o is string => typeof o === 'string' && o.length > 0);
  if (!origins.length) {
    warnings.notCarried(`${at}.allowOrigin`, 'CORS is enabled without origins; left out');
    return undefined;
  }
  const out: Record<string, unknown> = { allowOrigins: origins };
  const headers = asArray(cors.allowHeaders).filter((h): h is string => typeof h === 'string');
  if (headers.length) out.allowHeaders = headers;
  const expose = asArray(cors.exposeHeaders).filter((h): h is string => typeof h === 'string');
  if (expose.length) out.exposeHeaders = expose;
  if (typeof cors.allowCredentials === 'boolean') out.allowCredentials = cors.allowCredentials;
  if (typeof cors.maxAge === 'number' && cors.maxAge >= 0) out.maxAgeSeconds = cors.maxAge;
  const methods = asArray(cors.allowMethods).map((m) => String(m).toUpperCase());
  const allowed = methods.filter((m) => ['GET', 'POST', 'OPTIONS'].includes(m));
  if (allowed.length) out.allowMethods = allowed;
  if (allowed.length < methods.length) warnings.notCarried(`${at}.allowMethods`, `methods ${methods.filter((m) => !allowed.includes(m)).join(', ')} are never answered by Sluice; left out`);
  warnings.rest(at, cors, ['enabled', 'allowOrigin', 'allowHeaders', 'exposeHeaders', 'allowCredentials', 'maxAge', 'allowMethods'], 'CORS');
  return out as unknown as Cors;
}
