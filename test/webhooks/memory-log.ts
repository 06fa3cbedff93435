/**
 * An in-memory, single-partition log with group consumption (`consumeGroup`), for testing the
 * webhook subscription lifecycle without a broker: committed positions per group, commit after
 * (or before) delivery, a message given back is handed over again, dead letters recorded.
 * Registered in a test under the `kafka` type (a test Registry) so bundles stay
 * schema-valid. Broker behaviour itself is tested against real Kafka and Mosquitto.
 */
import type { Endpoint, EndpointFactory, GroupConsumeOptions } from '../../runtime/endpoints/endpoint.ts';
import { message, type Message, type PublishMessage } from '../../core/message.ts';

export class MemoryLog {
  readonly records: Message[] = [];
  /** group -> next offset to deliver. */
  readonly committed = new Map<string, number>();
  readonly deadLetters: { topic: string; message: PublishMessage }[] = [];
  /** Consumers running now, by group. */
  readonly consumers = new Map<string, number>();
  /** consumeGroup calls so far, by group (a restart is a new call). */
  readonly starts = new Map<string, number>();
  #wake = new Set<() => void>();

  append(...contents: string[]): void {
    for (const content of contents) {
      const offset = this.records.length;
      this.records.push(message({ id: String(offset), content: Buffer.from(content), metadata: { topic: 'memory', partition: 0, offset: String(offset), key: null } }));
    }
    for (const wake of [...this.#wake]) wake();
  }

  readonly factory: EndpointFactory<unknown> = () => {
    const endpoint: Endpoint = {
      type: 'kafka',
      publishes: false,
      subscribes: true,
      shared: true,
      resumable: false,
      start: async () => {},
      health: () => ({ healthy: true }),
      subscribe: () => {
        throw new Error('the memory log only consumes in groups');
      },
      publish: async () => {},
      stop: async () => {},
      consumeGroup: (options) => this.#consume(options),
    };
    return endpoint;
  };

  async #consume(options: GroupConsumeOptions): Promise<void> {
    const { group, signal } = options;
    this.consumers.set(group, (this.consumers.get(group) ?? 0) + 1);
    this.starts.set(group, (this.starts.get(group) ?? 0) + 1);
    options.onStatus?.({ connected: true, assignment: 'memory:0' });
    const deadLetter = async (letter: PublishMessage) => {
      if (!options.deadLetterTopic) throw new Error('no dead-letter topic');
      this.deadLetters.push({ topic: options.deadLetterTopic, message: letter });
    };
    try {
      while (!signal.aborted) {
        const offset = this.committed.get(group) ?? 0;
        const record = this.records[offset];
        if (!record) {
          await new Promise<void>((resolve) => {
            const done = () => {
              this.#wake.delete(done);
              signal.removeEventListener('abort', done);
              resolve();
            };
            this.#wake.add(done);
            signal.addEventListener('abort', done, { once: true });
          });
          continue;
        }
        if (options.commit === 'before') this.committed.set(group, offset + 1);
        const done = await options.deliver(record, { yielding: signal, deadLetter });
        if (done && options.commit === 'after') this.committed.set(group, offset + 1);
      }
    } finally {
      this.consumers.set(group, this.consumers.get(group)! - 1);
    }
  }
}
