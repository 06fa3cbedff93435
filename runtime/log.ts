/**
 * The runtime's structured log: one JSON line per request/connection and per deploy (pino) on
 * stdout. Level from `--log-level` (setLogLevel) or LOG_LEVEL; default `info`.
 *
 * Request ids: the server makes a child logger per request/connection with `requestId` (the
 * client's X-Request-Id or a new UUID) and hands it to the entrypoint, so every line of that
 * request carries it.
 *
 * Secrets never reach the log: credential headers (Authorization, X-Api-Key, Cookie, Proxy-Authorization)
 * and fields named like secrets are censored wherever they sit (top level or one object down),
 * `url`/`path` fields lose the values of credential query parameters (api-key, access_token, …),
 * and request lines use `safePath` (no query string at all).
 */
import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/** Field names whose values are secrets, censored at the top level and one object down. */
const SECRET_FIELDS = [
  'authorization', 'proxy-authorization', 'x-api-key', 'cookie', 'set-cookie',
  'password', 'passphrase', 'token', 'accessToken', 'access_token', 'apiKey', 'api_key', 'api-key', 'secret', 'clientSecret', 'privateKey',
];

/** Query parameters whose values are credentials (case-insensitive). */
const SECRET_PARAMS = new Set(['api-key', 'api_key', 'apikey', 'access_token', 'token', 'password', 'secret']);

const plain = (name: string): boolean => /^[A-Za-z_$][\w$]*$/.test(name);
const prop = (name: string): string => (plain(name) ? `.${name}` : `["${name}"]`);
const REDACT_PATHS = SECRET_FIELDS.flatMap((f) => [
  plain(f) ? f : `["${f}"]`,
  `*${prop(f)}`,
  `*.headers${prop(f)}`,
]);

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** A URL or path with the values of credential query parameters replaced by `[redacted]`. */
export function redactUrl(url: unknown): unknown {
  if (typeof url !== 'string' || !url.includes('?')) return url;
  const q = url.indexOf('?');
  const query = url.slice(q + 1).split('&').map((pair) => {
    const eq = pair.indexOf('=');
    const name = decodeURIComponentSafe(eq === -1 ? pair : pair.slice(0, eq)).toLowerCase();
    return SECRET_PARAMS.has(name) && eq !== -1 ? `${pair.slice(0, eq)}=[redacted]` : pair;
  });
  return `${url.slice(0, q)}?${query.join('&')}`;
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/** The logger's options (exported so tests can check redaction with their own destination). */
export const LOG_OPTIONS: LoggerOptions = {
  level: LEVELS.includes(process.env.LOG_LEVEL ?? '') ? process.env.LOG_LEVEL : 'info',
  base: { service: 'sluice' },
  timestamp: pino.stdTimeFunctions.isoTime,
  redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  serializers: { url: redactUrl, path: redactUrl },
};

export const log: Logger = pino(LOG_OPTIONS);

export function setLogLevel(level: string): void {
  log.level = level;
}

/**
 * Where log lines go: `write` gets each JSON line (with its newline) instead of stdout, e.g. a
 * formatter for a terminal (`--log-format pretty`, cli/log-format.ts). Child loggers follow.
 */
export function setLogOutput(write: (line: string) => void): void {
  (log as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] = { write };
}

/** The path of a request URL without its query string (which may carry credentials). */
export function safePath(url: string | undefined): string {
  if (!url) return '';
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  return path.length > 256 ? `${path.slice(0, 256)}…` : path;
}
