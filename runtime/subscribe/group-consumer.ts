/**
 * A background subscriber's consumer (webhooks), handed out by the exchange
 * (`ExchangePort.groupConsumer`): an endpoint instance of its own, independent of the exchange's
 * (its group membership follows the subscriber, which may outlive the exchange across deploys),
 * and the API's subscribe flow, compiled for it.
 *
 * `consume` consumes in a group (`Endpoint.consumeGroup`). An endpoint without group consumption
 * that is not shared (the mock) is read with `subscribe()`, one message at a time: each instance
 * delivers its own stream, nothing to commit, no dead letters. A shared endpoint without group
 * consumption cannot serve a background subscriber (WEBHOOK_ENDPOINT_UNSUPPORTED).
 */
import type { Endpoint, GroupConsumeOptions, GroupDelivery } from '../endpoints/endpoint.ts';
import type { Flow } from '../../core/policies/flow.ts';
import { GatewayError } from '../../core/errors.ts';

export interface GroupConsumer {
  /** The subscribe flow; the subscriber applies it per message (a dropped message counts as done). */
  readonly flow: Flow;
  /** Resolves once `options.signal` aborted and the consumer left its group (or the stream ended); rejects when `deliver` rejected or the endpoint cannot consume. */
  consume(options: GroupConsumeOptions): Promise<void>;
  /** Releases the endpoint instance; call once, when done with it. */
  stop(): Promise<void>;
}

export function groupConsumer(endpoint: Endpoint, flow: Flow): GroupConsumer {
  return {
    flow,
    consume: (options) => consume(endpoint, options),
    stop: () => endpoint.stop(),
  };
}

async function consume(endpoint: Endpoint, options: GroupConsumeOptions): Promise<void> {
  if (endpoint.consumeGroup) return endpoint.consumeGroup(options);
  if (endpoint.shared) {
    throw new GatewayError('WEBHOOK_ENDPOINT_UNSUPPORTED', 500, `the ${endpoint.type} endpoint cannot consume in a group in this runtime`);
  }
  // Per-subscriber endpoints (the mock): each instance delivers its own stream; nothing to commit.
  const { signal, deliver } = options;
  await endpoint.start();
  options.onStatus?.({ connected: true, assignment: endpoint.type });
  const noDeadLetters: GroupDelivery['deadLetter'] = async () => {
    throw new GatewayError('DEAD_LETTER_UNSUPPORTED', 500, `the ${endpoint.type} endpoint takes no dead letters`);
  };
  for await (const message of endpoint.subscribe({ signal })) {
    if (!(await deliver(message, { yielding: signal, deadLetter: noDeadLetters }))) return;
  }
}
