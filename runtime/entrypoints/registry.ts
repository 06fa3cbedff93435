/**
 * Entrypoint implementations by schema `type`. Adding an entrypoint: one file exporting an
 * EntrypointFactory, one line here. The router needs no change: it orders by `specificity`.
 */
import type { Entrypoint as EntrypointConfig } from '../../schemas/types.ts';
import type { Entrypoint, EntrypointContext, EntrypointFactories, EntrypointFactory } from './entrypoint.ts';
import { createHttpGetEntrypoint } from './http-get.ts';
import { createWebsocketEntrypoint } from './websocket.ts';
import { createWebhookEntrypoint } from './webhook/webhook.ts';
import { createSseEntrypoint } from './sse.ts';
import { createHttpPostEntrypoint } from './http-post.ts';

export const entrypointFactories: EntrypointFactories = {
  'http-get': createHttpGetEntrypoint,
  websocket: createWebsocketEntrypoint,
  webhook: createWebhookEntrypoint,
  sse: createSseEntrypoint,
  'http-post': createHttpPostEntrypoint,
};

/** Builds one entrypoint; an unknown type throws (the bundle fails to build, the last good keeps serving). */
export function createEntrypoint(config: EntrypointConfig, context: EntrypointContext, factories: EntrypointFactories = entrypointFactories): Entrypoint {
  const factory = factories[config.type] as EntrypointFactory<EntrypointConfig> | undefined;
  if (!factory) throw new Error(`entrypoint type "${config.type}" is not available in this runtime`);
  return factory(config, context);
}
