/**
 * The runtime's structured log: one JSON line per request/connection and per deploy (pino).
 * Level from `--log-level` (setLogLevel) or LOG_LEVEL; default `info`.
 * Never log secrets: use `safePath` for URLs (the query string is dropped, it may carry api-key/access_token).
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export const log: Logger = pino({
  level: process.env.LOG_LEVEL ?? 'info',
  base: { service: 'sluice' },
  timestamp: pino.stdTimeFunctions.isoTime,
  redact: {
    paths: ['headers.authorization', 'headers["x-api-key"]', 'headers.cookie', '*.password', '*.token', '*.secret'],
    censor: '[redacted]',
  },
});

export function setLogLevel(level: string): void {
  log.level = level;
}

/** The path of a request URL without its query string (which may carry credentials). */
export function safePath(url: string | undefined): string {
  if (!url) return '';
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  return path.length > 256 ? `${path.slice(0, 256)}…` : path;
}
