/**
 * Captures the gateway's request log lines (`event: "request"`) in a test: the server logs each
 * request through `log.child({ requestId })`, so the child's `info` is wrapped. Call the returned
 * function to stop capturing.
 */
import { vi } from 'vitest';
import { log, type Logger } from '../../runtime/log.ts';

export type RequestLine = Record<string, unknown> & { requestId?: string; status?: number; code?: string; closeCode?: number; path?: string };

export function captureRequestLog(): { readonly lines: RequestLine[]; stop(): void } {
  const lines: RequestLine[] = [];
  const child = log.child.bind(log);
  const spy = vi.spyOn(log, 'child').mockImplementation(((bindings: Record<string, unknown>, options?: object) => {
    const logger = child(bindings, options) as Logger;
    const info = logger.info.bind(logger);
    logger.info = ((object: unknown, ...rest: unknown[]) => {
      if (object && typeof object === 'object' && (object as RequestLine).event === 'request') lines.push({ ...bindings, ...(object as RequestLine) });
      return (info as (...args: unknown[]) => void)(object, ...rest);
    }) as Logger['info'];
    return logger;
  }) as unknown as typeof log.child);
  return { lines, stop: () => spy.mockRestore() };
}
