/**
 * A toy endpoint, written as a new connector would be: one folder, one factory, nothing else in
 * the runtime. It counts up (`toy 0`, `toy 1`, …) from the cursor, and keeps what is published.
 * The test registers it through the gateway's Registry under the `mock` type (so the bundle
 * stays schema-valid without a schema file of its own; a real connector adds that, see the note).
 */
import type { Endpoint, EndpointFactory, SubscribeOptions } from '../../../runtime/endpoints/endpoint.ts';
import { message, type Message, type PublishMessage } from '../../../core/message.ts';
import type { MockEndpoint } from '../../../schemas/types.ts';

export interface ToyEndpoint extends Endpoint {
  readonly published: PublishMessage[];
}

export const createToyEndpoint: EndpointFactory<MockEndpoint> = (config) => {
  const published: PublishMessage[] = [];
  const interval = config.messageInterval ?? 10;
  return {
    type: 'toy',
    publishes: true,
    subscribes: true,
    shared: false,
    resumable: true,
    published,
    async start() {},
    async stop() {},
    health: () => ({ healthy: true }),
    async publish(m: PublishMessage) {
      published.push(m);
    },
    subscribe(options: SubscribeOptions): AsyncIterable<Message> {
      let next = options.cursor === undefined ? 0 : Number(options.cursor) + 1;
      return (async function* () {
        while (!options.signal.aborted) {
          await new Promise((resolve) => setTimeout(resolve, interval));
          yield message({ id: String(next), content: Buffer.from(`toy ${next++}`) });
        }
      })();
    },
  } as ToyEndpoint;
};
