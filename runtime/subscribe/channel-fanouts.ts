/**
 * Channel fanouts: for an endpoint with an upstream subscription per channel (Endpoint.channelUpstream;
 * Kafka `consumer.topics: ["telemetry.{tenant}"]`), one Fanout per channel, so clients of one channel
 * still share one upstream and one encoding per message. The first client of a channel opens it, its
 * last client leaving stops its upstream (Fanout), and the channel is forgotten when another one is
 * opened. At most `maxChannels` (fanout.maxChannels) are open at once per API and runtime instance:
 * beyond it a client on a new channel is refused with 503 CHANNEL_CAPACITY; open channels carry on.
 */
import type { ChannelParams } from '../endpoints/endpoint.ts';
import type { Tally } from '../metrics/telemetry.ts';
import type { Abortable } from '../abortable.ts';
import type { ChannelMember, ClientQueue, Fanout } from './fanout.ts';
import { errors } from '../../core/errors.ts';

export class ChannelFanouts {
  readonly #open = new Map<string, Fanout>();

  constructor(
    private readonly create: (params: ChannelParams) => Fanout,
    readonly maxChannels: number,
  ) {}

  /** The fanout serving `key` now, if one is open (a resuming client hands over to it). */
  get(key: string): Fanout | undefined {
    return this.#open.get(key);
  }

  /** A client on the channel `key` (its upstream opened with `params` if it is not open). Throws CHANNEL_CAPACITY when it cannot be opened. */
  attach(key: string, params: ChannelParams, signal: Abortable, onFailure?: (reason: unknown) => void, tally?: Tally, member?: ChannelMember): ClientQueue {
    let fanout = this.#open.get(key);
    if (!fanout) {
      for (const [open, candidate] of this.#open) if (candidate.clients === 0) this.#open.delete(open); // its upstream stopped with its last client
      if (this.#open.size >= this.maxChannels) throw errors.channelCapacity(this.maxChannels);
      fanout = this.create(params);
      this.#open.set(key, fanout);
    }
    return fanout.attach(signal, onFailure, tally, member);
  }

  /** The CHANNEL_CAPACITY refusal `attach` would throw now for `key`, if any. */
  refusal(key: string): ReturnType<typeof errors.channelCapacity> | undefined {
    if (this.#open.get(key)) return undefined;
    return this.channels >= this.maxChannels ? errors.channelCapacity(this.maxChannels) : undefined;
  }

  /** Channels with clients now. */
  get channels(): number {
    let count = 0;
    for (const fanout of this.#open.values()) if (fanout.clients > 0) count++;
    return count;
  }

  get clients(): number {
    let count = 0;
    for (const fanout of this.#open.values()) count += fanout.clients;
    return count;
  }

  /** Ends every client of every channel with this reason and stops their upstreams. */
  close(reason: unknown): void {
    for (const fanout of this.#open.values()) fanout.close(reason);
    this.#open.clear();
  }
}
