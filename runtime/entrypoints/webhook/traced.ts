/** The spans of a traced webhook subscription (tracing/messaging.ts): a process span per message, a client span per attempt. */
import type { Tracing, TraceSpan } from '../../tracing/tracing.ts';
import { callbackSpan, endCallbackSpan, withTraceHeaders } from '../../tracing/messaging.ts';
import type { Callback, CallbackResult } from './callback.ts';

/** Handles one message in its process span: records whether it is done, fails the span on a throw, ends it. */
export async function inProcessSpan(span: TraceSpan, handle: (span: TraceSpan) => Promise<boolean>): Promise<boolean> {
  try {
    const done = await handle(span);
    span.set({ 'sluice.webhook.done': done });
    return done;
  } catch (error) {
    span.fail('INTERNAL', (error as Error).message);
    throw error;
  } finally {
    span.end();
  }
}

/** One attempt in a client span (child of the process span) whose traceparent the callback receives. */
export async function tracedPost(tracing: Tracing, parent: TraceSpan, callback: Callback, message: Parameters<Callback['post']>[0], signal: AbortSignal, attempt: number): Promise<CallbackResult> {
  const client = callbackSpan(tracing, parent, callback.target, attempt);
  const result = await callback.post(withTraceHeaders(message, client), signal);
  endCallbackSpan(client, result);
  return result;
}
