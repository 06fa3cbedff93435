/**
 * Which of a fanout's client queues take a batch of messages, without testing every client for every
 * message. Clients without a channel filter take the whole batch. Clients on a channel are grouped by
 * it (ChannelMember.channel.id: the same parameters, the same filter), so `accepts` runs once per
 * channel and message, not once per client. A channel with an exact key (an MQTT topic without
 * wildcards, a Kafka record key) is found through the message's key (Endpoint.channelKeyOf) without
 * testing the other channels at all. Every client of a group gets the same DeliveryBatch (its bytes
 * joined once for all of them).
 */
import type { Message } from '../../core/message.ts';
import { DeliveryBatch, type Delivery } from './delivery.ts';
import type { ClientQueue } from './client-queue.ts';

/** A client's channel filter, as the fanout indexes it. */
export interface ChannelFilter {
  accepts?(message: Message): boolean;
  /** Clients with the same id have the same filter (the same channel parameters). */
  readonly channel?: { readonly id: string; readonly key?: string | undefined };
}

interface Group {
  readonly accepts: (message: Message) => boolean;
  readonly key: string | undefined;
  readonly id: string | ClientQueue;
  readonly queues: Set<ClientQueue>;
}

export class ChannelIndex {
  /** Clients that take every message. */
  readonly #all = new Set<ClientQueue>();
  readonly #groups = new Map<string | ClientQueue, Group>();
  /** Groups found by the message's key; the others are tested one by one. */
  readonly #keyed = new Map<string, Group>();
  readonly #tested = new Set<Group>();
  readonly #groupOf = new Map<ClientQueue, Group>();

  constructor(private readonly keyOf?: (message: Message) => string | undefined) {}

  add(queue: ClientQueue, filter?: ChannelFilter): void {
    const accepts = filter?.accepts;
    if (!accepts) {
      this.#all.add(queue);
      return;
    }
    const id = filter.channel?.id ?? queue;
    let group = this.#groups.get(id);
    if (!group) {
      const key = this.keyOf ? filter.channel?.key : undefined;
      group = { accepts: (message) => accepts.call(filter, message), key, id, queues: new Set() };
      this.#groups.set(id, group);
      if (key !== undefined) this.#keyed.set(key, group);
      else this.#tested.add(group);
    }
    group.queues.add(queue);
    this.#groupOf.set(queue, group);
  }

  delete(queue: ClientQueue): void {
    if (this.#all.delete(queue)) return;
    const group = this.#groupOf.get(queue);
    if (!group) return;
    this.#groupOf.delete(queue);
    group.queues.delete(queue);
    if (group.queues.size > 0) return;
    this.#groups.delete(group.id);
    if (group.key !== undefined) this.#keyed.delete(group.key);
    else this.#tested.delete(group);
  }

  /** Hands `deliveries` (the flow's outputs of `messages`, index for index) to every client that takes them, in order. */
  deliver(deliveries: readonly Delivery[], messages: readonly Message[]): void {
    if (this.#all.size > 0) {
      const batch = new DeliveryBatch(deliveries);
      for (const queue of this.#all) queue.pushMany(batch);
    }
    if (this.#groups.size === 0) return;
    const taken = new Map<Group, Delivery[]>();
    const take = (group: Group, delivery: Delivery) => {
      const list = taken.get(group);
      if (list) list.push(delivery);
      else taken.set(group, [delivery]);
    };
    for (let i = 0; i < messages.length; i++) {
      const message = messages[i]!;
      if (this.#keyed.size > 0) {
        const key = this.keyOf!(message);
        const group = key === undefined ? undefined : this.#keyed.get(key);
        if (group && group.accepts(message)) take(group, deliveries[i]!);
      }
      for (const group of this.#tested) if (group.accepts(message)) take(group, deliveries[i]!);
    }
    for (const [group, list] of taken) {
      const batch = new DeliveryBatch(list);
      for (const queue of group.queues) queue.pushMany(batch);
    }
  }
}
