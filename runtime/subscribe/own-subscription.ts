/**
 * A client's own upstream subscription (not the shared fanout): endpoints that are not shared
 * (mock), and clients resuming a shared endpoint from a cursor. Runs the subscribe flow per message
 * and counts it; ends quietly when `request.signal` aborts. A resuming client holds `slot` (see
 * resume-capacity.ts) until its subscription ended, or, on an endpoint with a cursor order (Kafka), until it
 * switched onto the fanout (resume-handover.ts), whichever comes first.
 */
import type { ChannelParams, Endpoint } from '../endpoints/endpoint.ts';
import type { Flow } from '../../core/policies/flow.ts';
import type { SubscribeRequest } from '../exchange-port.ts';
import type { ChannelMember, Fanout, FanoutSettings } from './fanout.ts';
import type { Message } from '../../core/message.ts';
import type { ResumeSlot } from './resume-capacity.ts';
import { Delivery } from './delivery.ts';
import { messagesOf, resumed, type Resumed } from './resume-handover.ts';
import type { Tally, Telemetry } from '../metrics/telemetry.ts';
import type { Tracing } from '../tracing/tracing.ts';
import { deliverSpan } from '../tracing/messaging.ts';

export interface OwnSubscriptionContext {
  readonly apiId: string;
  /** The gateway's telemetry (message and drop events). */
  readonly telemetry: Telemetry;
  readonly flow: Flow;
  readonly tally: Tally;
  /** Held by a client resuming a shared endpoint; released exactly once. */
  readonly slot: ResumeSlot | undefined;
  readonly fanout: Fanout | undefined;
  /** The channel's parameters, for an endpoint with an upstream per channel (then `fanout` is that channel's). */
  readonly params?: ChannelParams;
  readonly fanoutSettings: FanoutSettings;
  /** The gateway's tracer: a `deliver` span per traced message of this client's own (tracing/messaging.ts). */
  readonly tracing?: Tracing | null;
  /** The client's channel filter and flow context (channels), as in the fanout. */
  readonly member?: ChannelMember;
}

export async function* ownSubscription(endpoint: Endpoint, request: SubscribeRequest, context: OwnSubscriptionContext): AsyncGenerator<Delivery> {
  const { apiId, telemetry, flow, tally, slot, fanout } = context;
  const upstream = telemetry.upstreamMeterFor(apiId, endpoint.type);
  slot?.started();
  const controller = new AbortController();
  /** The upstream subscription of this client's own (closed at a hand-over, see resume-handover.ts). */
  const ownController = new AbortController();
  const onAbort = () => {
    controller.abort(request.signal.reason);
    ownController.abort(request.signal.reason);
  };
  request.signal.addEventListener('abort', onAbort, { once: true });
  try {
    if (request.signal.aborted) return;
    const own = endpoint.subscribe({ cursor: request.cursor, signal: ownController.signal, ...(context.params ? { params: context.params } : {}) });
    const order = endpoint.cursorOrder;
    const source: AsyncIterable<Resumed> = slot && fanout && order
      ? resumed({
        fanout: fanout,
        order,
        settings: context.fanoutSettings,
        cursor: request.cursor!,
        own,
        ownController,
        signal: controller.signal,
        onSwitch: () => slot.release(),
        ...(context.member ? { member: context.member } : {}),
        onFailure: request.onFailure,
        onDropped: () => {
          telemetry.emit({ kind: 'dropped', api: apiId, reason: 'slow-consumer', count: 1 });
          tally.dropped('slow-consumer', 1);
        },
      })
      : messagesOf(own);
    for await (const { message, delivery } of source) {
      if (controller.signal.aborted) return;
      if (delivery) {
        tally.delivered(delivery.message.content.length);
        yield delivery;
        continue;
      }
      upstream.received(); // from this client's own consumer (a delivery came through the fanout, counted there)
      const member = context.member;
      if (member?.accepts && !member.accepts(message)) continue;
      const evaluated = flow.perCaller && member ? flow(Object.freeze({ ...message, context: member.context })) : flow(message);
      const out = evaluated && evaluated.context ? stripContext(evaluated) : evaluated;
      if (out === null) {
        telemetry.emit({ kind: 'dropped', api: apiId, reason: 'policy', count: 1 });
        tally.dropped('policy', 1);
        continue;
      }
      telemetry.emit({ kind: 'message', api: apiId, direction: 'subscribe' });
      tally.delivered(out.content.length);
      if (context.tracing) deliverSpan(context.tracing, endpoint.type, out, apiId, 1)?.end();
      yield new Delivery(out);
    }
  } catch (error) {
    if (!controller.signal.aborted) {
      tally.failed(error);
      throw error;
    }
  } finally {
    request.signal.removeEventListener('abort', onAbort);
    controller.abort();
    ownController.abort();
    slot?.release();
  }
}

function stripContext(message: Message): Message {
  const { context: _context, ...plain } = message;
  return Object.freeze(plain);
}
