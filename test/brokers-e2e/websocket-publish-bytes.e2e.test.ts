/**
 * WebSocket publishing meets a broker that does not acknowledge: a relay in front of the suite's
 * Mosquitto holds what the gateway sends, so the first MQTT publish (QoS 1) waits for its PUBACK.
 * The client sends frames far over `maxPublishInFlightBytes`: the gateway stops reading the socket
 * (what it took from the kernel stays within the bound plus one frame plus one socket read, where
 * the 64-frame count bound alone would let it take 16 MiB), and once the relay lets go, every
 * frame reaches an independent MQTT subscriber, in order.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import type { Gateway } from '../../runtime/gateway.ts';
import { connect, gatewayWith, waitFor } from '../support/harness.ts';
import { makeBundle } from '../support/bundles.ts';
import { mqttUrl } from '../support/brokers/brokers.ts';

const BOUND = 1024 * 1024;
const FRAME = 256 * 1024;
const FRAMES = 96;
/** A masked client frame of FRAME bytes: 2 + 8 length bytes and a 4-byte mask (RFC 6455 5.2). */
const WIRE_FRAME = FRAME + 14;
/** What the gateway may read past the frame that reached the bound: one socket read and its stream buffer. */
const READ_SLACK = 256 * 1024;
const topic = `e2e/${randomUUID().slice(0, 6)}/ws-publish`;

/** A TCP relay to the broker that can hold what clients send (and let it go, in order). */
function holdingRelay(target: { host: string; port: number }) {
  const links = new Set<{ readonly broker: net.Socket; readonly held: Buffer[] }>();
  let holding = false;
  const server = net.createServer((client) => {
    const link = { broker: net.connect(target.port, target.host), held: [] as Buffer[] };
    links.add(link);
    client.on('data', (chunk: Buffer) => (holding ? link.held.push(chunk) : link.broker.write(chunk)));
    link.broker.pipe(client);
    const end = () => {
      links.delete(link);
      client.destroy();
      link.broker.destroy();
    };
    client.on('close', end).on('error', end);
    link.broker.on('close', end).on('error', end);
  });
  return {
    server,
    hold: () => (holding = true),
    release() {
      holding = false;
      for (const link of links) for (const chunk of link.held.splice(0)) link.broker.write(chunk);
    },
  };
}

/** Send-Q and Recv-Q of the loopback TCP socket from `localPort` to `remotePort` (the kernel's view, /proc/net/tcp*). */
function tcpQueues(localPort: number, remotePort: number): { tx: number; rx: number } {
  const hex = (port: number) => port.toString(16).toUpperCase().padStart(4, '0');
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const [, local, remote, , queues] = line.trim().split(/\s+/);
      if (local?.endsWith(`:${hex(localPort)}`) && remote?.endsWith(`:${hex(remotePort)}`)) {
        const [tx, rx] = queues!.split(':').map((q) => parseInt(q, 16));
        return { tx: tx!, rx: rx! };
      }
    }
  }
  throw new Error(`no TCP socket ${localPort} -> ${remotePort} in /proc/net/tcp*`);
}

let gateway: Gateway;
let relay: ReturnType<typeof holdingRelay>;
let subscriber: MqttClient;
const received: Buffer[] = [];

beforeAll(async () => {
  const url = new URL(await mqttUrl());
  relay = holdingRelay({ host: url.hostname, port: Number(url.port) });
  await new Promise<void>((resolve) => relay.server.listen(0, '127.0.0.1', resolve));
  subscriber = await mqtt.connectAsync(url.href, { protocolVersion: 5, reconnectPeriod: 0 });
  subscriber.on('message', (_topic, payload) => received.push(payload));
  await subscriber.subscribeAsync(topic, { qos: 1 });
  gateway = await gatewayWith(makeBundle({
    commands: {
      definition: {
        entrypoints: [{ type: 'websocket', subscriber: false, maxPublishInFlightBytes: BOUND }],
        endpoints: [{ type: 'mqtt', serverHost: '127.0.0.1', serverPort: (relay.server.address() as net.AddressInfo).port, producer: { topic, qos: 1 } }],
      } as never,
    },
  }));
});

afterAll(async () => {
  await gateway?.close();
  await subscriber?.endAsync(true);
  relay?.server.close();
});

const frame = (i: number) => Buffer.concat([Buffer.from(`frame-${String(i).padStart(4, '0')}|`), Buffer.alloc(FRAME - 11, 0x61 + (i % 26))]);

it('stops reading a client while its frames in flight reach maxPublishInFlightBytes, then publishes every frame in order', { timeout: 60_000 }, async () => {
  const client = connect(`${gateway.url.replace('http', 'ws')}/commands/`);
  const socket = await new Promise<net.Socket>((resolve) => client.ws.once('upgrade', (res) => resolve(res.socket as net.Socket)));
  await client.opened;
  relay.hold();
  try {
    // One frame at a time: the send callback says the kernel took all of it, so the kernel has
    // between `written` frames and one more.
    let written = 0;
    const sending = (async () => {
      for (let i = 0; i < FRAMES; i++) {
        await new Promise<void>((resolve, reject) => client.ws.send(frame(i), (error) => (error ? reject(error) : resolve())));
        written++;
      }
    })();
    sending.catch(() => undefined);
    // What the gateway took off its socket: what the kernel took from the client, less what is
    // still unacknowledged at the client or unread at the gateway. Wait until it settles.
    const inKernel = () => {
      const mine = tcpQueues(socket.localPort!, socket.remotePort!);
      const gateways = tcpQueues(socket.remotePort!, socket.localPort!);
      return mine.tx + gateways.rx;
    };
    let seen = '';
    let stableSince = Date.now();
    await waitFor(() => {
      const now = `${written}/${inKernel()}`;
      if (now !== seen) [seen, stableSince] = [now, Date.now()];
      return Date.now() - stableSince >= 700;
    }, 6_000, 'the gateway to stop reading');
    const kernel = inKernel();
    const atMost = (written + 1) * WIRE_FRAME - kernel;
    const atLeast = written * WIRE_FRAME - kernel;
    const what = `written ${written} frames, ${kernel} bytes in the kernel`;
    expect(atMost, what).toBeLessThanOrEqual(BOUND + WIRE_FRAME + READ_SLACK);
    // It did read up to the bound (the measure is sound).
    expect(atLeast, what).toBeGreaterThanOrEqual(BOUND - WIRE_FRAME);
    expect(received).toHaveLength(0);
    relay.release();
    await sending;
  } finally {
    relay.release();
  }
  await waitFor(() => received.length >= FRAMES, 30_000, `${FRAMES} messages at the subscriber`);
  expect(received.map((m) => m.subarray(0, 10).toString())).toEqual(Array.from({ length: FRAMES }, (_, i) => `frame-${String(i).padStart(4, '0')}`));
  expect(received.every((m, i) => m.equals(frame(i)))).toBe(true);
  expect(client.messages).toHaveLength(0);
  expect(client.ws.readyState).toBe(client.ws.OPEN);
  client.ws.close();
});
