/**
 * A `mock` endpoint for entrypoint contract tests (installed in place of the built-in one for the
 * test file's process): message `n` carries `m<n>` (or, with messageContent "binary", the non-UTF-8
 * bytes ff fe 00 n), so every entrypoint's ordering, resume and encoding can be checked byte for
 * byte. messageContent "unhealthy" makes it report unhealthy and refuse publishes with 503.
 * Any other messageContent passes the mock's own messages through unchanged.
 * `subscriptions.active` counts open upstream subscriptions (a client leaving must release its own).
 */
import type { MockEndpoint } from '../../schemas/types.ts';
import type { Endpoint } from '../../runtime/endpoints/endpoint.ts';
import type { Message } from '../../core/message.ts';
import type { Registry } from '../../runtime/registry.ts';
import { registryWith } from '../support/registry.ts';
import { createMock, type MockEndpointInstance } from '../../runtime/endpoints/mock/mock.ts';
import { errors } from '../../core/errors.ts';
import { contentOf, type EntrypointBackend } from './entrypoint-backend.ts';

export const subscriptions = { active: 0 };
/** Every mock built, by its messageContent (the test's API kind). */
export const built: { readonly kind: string; readonly endpoint: MockEndpointInstance }[] = [];

export const binaryContent = (id: string) => contentOf('bin', Number(id));

/** The gateway Registry with this mock in place of the built-in one. */
export function numberedMockRegistry(): Registry {
  return registryWith({ mock: (config: MockEndpoint): Endpoint => {
    const mock = createMock(config);
    built.push({ kind: config.messageContent ?? '', endpoint: mock });
    const binary = config.messageContent === 'binary';
    const unhealthy = config.messageContent === 'unhealthy';
    const numberedKinds = ['text', 'binary', 'unhealthy', 'slow'];
    if (!numberedKinds.includes(config.messageContent ?? '')) return mock;
    async function* numbered(source: AsyncIterable<Message>): AsyncGenerator<Message> {
      subscriptions.active++;
      try {
        for await (const m of source) yield { ...m, content: binary ? binaryContent(m.id) : Buffer.from(`m${m.id}`) };
      } finally {
        subscriptions.active--;
      }
    }
    return {
      ...mock,
      health: () => (unhealthy ? { healthy: false, detail: 'test: unhealthy' } : mock.health()),
      publish: async (message) => {
        if (unhealthy) throw errors.endpointUnavailable('test: unhealthy');
        await mock.publish(message);
      },
      subscribe: (options) => numbered(mock.subscribe(options)),
    };
  } });
}

/** The entrypoint suite over the numbered mock: message n (id n) flows every 20 ms from each subscription's start; cursors are ids. */
export function mockBackend(): EntrypointBackend {
  const kinds = { text: 'text', bin: 'binary', down: 'unhealthy' } as const;
  return {
    name: 'numbered mock',
    numberedIds: true,
    resumes: true,
    start: async () => ({
      registry: numberedMockRegistry(),
      cursorOf: (_kind, index) => String(index),
      endpoints: (kind) => [kind === 'slow'
        ? { type: 'mock', messageInterval: 60_000, messageContent: 'slow' }
        : { type: 'mock', messageInterval: 20, messageContent: kinds[kind] }],
      // Every numbered mock of the process: a test waits for none before opening its own.
      upstreams: async () => subscriptions.active,
      watchPublished: async (kind) => {
        const endpoint = () => [...built].reverse().find((b) => b.kind === (kind === 'slow' ? 'slow' : kinds[kind]))!.endpoint;
        return { received: () => endpoint().recorded().map((m) => m.content), close: async () => {} };
      },
      close: async () => {},
    }),
  };
}
