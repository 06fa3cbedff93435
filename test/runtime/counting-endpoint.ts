/**
 * A broker-like test endpoint (shared: true, like Kafka and MQTT): every active subscription gets
 * each message `emit`ted from then on. Counts subscribe/start/stop calls. Registered in a test
 * under an existing endpoint type (e.g. `kafka`) so bundles stay schema-valid.
 */
import type { Endpoint, EndpointFactory, SubscribeOptions } from '../../runtime/endpoints/endpoint.ts';
import { message, type Message, type PublishMessage } from '../../core/message.ts';

export class CountingEndpoint implements Endpoint {
  readonly type = 'counting';
  readonly publishes = true;
  readonly subscribes = true;
  readonly shared = true;
  readonly resumable = false;
  subscribeCalls = 0;
  startCalls = 0;
  stopCalls = 0;
  activeSubscriptions = 0;
  readonly published: PublishMessage[] = [];
  #sinks = new Set<(message: Message | Error) => void>();
  #next = 0;

  async start(): Promise<void> {
    this.startCalls++;
  }

  health() {
    return { healthy: true };
  }

  /** Delivers one message to every active subscription. */
  emit(content: string | Buffer = `m${this.#next}`): void {
    const m = message({ id: String(this.#next++), content: Buffer.isBuffer(content) ? content : Buffer.from(content) });
    for (const sink of this.#sinks) sink(m);
  }

  /** Ends every active subscription with an error. */
  fail(error: Error): void {
    for (const sink of this.#sinks) sink(error);
  }

  subscribe(options: SubscribeOptions): AsyncIterable<Message> {
    this.subscribeCalls++;
    const sinks = this.#sinks;
    const self = this;
    return (async function* () {
      const buffer: (Message | Error)[] = [];
      let wake: (() => void) | undefined;
      const sink = (m: Message | Error) => {
        buffer.push(m);
        wake?.();
      };
      const onAbort = () => wake?.();
      sinks.add(sink);
      self.activeSubscriptions++;
      options.signal.addEventListener('abort', onAbort);
      try {
        while (!options.signal.aborted) {
          if (buffer.length === 0) {
            await new Promise<void>((resolve) => (wake = resolve));
            wake = undefined;
            continue;
          }
          const next = buffer.shift()!;
          if (next instanceof Error) throw next;
          yield next;
        }
      } finally {
        sinks.delete(sink);
        self.activeSubscriptions--;
        options.signal.removeEventListener('abort', onAbort);
      }
    })();
  }

  async publish(published: PublishMessage): Promise<void> {
    this.published.push(published);
  }

  async stop(): Promise<void> {
    this.stopCalls++;
  }
}

/** A factory that records every endpoint it built. */
export function countingFactory(): { factory: EndpointFactory<unknown>; built: CountingEndpoint[] } {
  const built: CountingEndpoint[] = [];
  return {
    built,
    factory: () => {
      const endpoint = new CountingEndpoint();
      built.push(endpoint);
      return endpoint;
    },
  };
}

/** A schema-valid kafka endpoint config, for bundles whose `kafka` type a test replaced. */
export const kafkaConfig = { type: 'kafka', bootstrapServers: ['127.0.0.1:1'], consumer: { topics: ['t'] }, producer: { topic: 't' } } as const;
