/**
 * The saturation profile's open loop: publishes as fast as the path delivers, never more than
 * `window` messages per client ahead of what the clients have counted (so nothing grows without
 * bound: not the broker's queue, not the server's per-client queues, not the sockets). When the
 * clients have got less than half the window behind, it refills it in one burst (MQTT QoS 0 writes
 * back to back, one Kafka produce request, pipelined HTTP POSTs to nchan).
 *
 * Runs `steadyMs` to fill the path, then measures `windowMs`: messages delivered, server CPU, the
 * busiest client process's CPU and the machine's busy share between the two snapshots.
 */
import { readFileSync } from 'node:fs';
import { cpuMicros } from './processes.ts';
import type { ClientProcess, ServerProcess } from './processes.ts';
import type { Kind } from './cases.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Messages published but not yet counted, per client, with no progress for this long: taken as dropped upstream. */
const STALL_MS = 500;

export interface DrivePlan {
  readonly server: ServerProcess;
  readonly clients: readonly ClientProcess[];
  /** Subscribers in all client processes. */
  readonly subscribers: number;
  /** Publishes `count` more messages; resolves once they are written (MQTT) or acknowledged (Kafka, nchan). */
  publish(count: number): Promise<void>;
  readonly window: number;
  readonly steadyMs: number;
  readonly windowMs: number;
}

export interface Drive {
  readonly seconds: number;
  readonly published: number;
  readonly delivered: number;
  readonly serverMicros: number;
  readonly clientCores: number;
  readonly machineBusy: number;
  readonly closed: number;
}

/** Busy and total jiffies of all CPUs (/proc/stat). */
function machineTicks(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - fields[3]! - fields[4]!, total };
}

interface Snapshot {
  readonly at: number;
  readonly published: number;
  readonly delivered: number;
  readonly server: number;
  readonly clients: number[];
  readonly machine: { busy: number; total: number };
}

/** Frames the client processes counted since their last reset, and closed subscribers. */
export async function counted(clients: readonly ClientProcess[], reset = false): Promise<{ frames: number; receiving: number; closed: number }> {
  const replies = await Promise.all(clients.map((c) => c.request({ cmd: 'counted', reset })));
  const sum = (key: string) => replies.reduce((total, r) => total + (r[key] as number), 0);
  return { frames: sum('frames'), receiving: sum('receiving'), closed: sum('closed') };
}

export async function drive(plan: DrivePlan): Promise<Drive> {
  await counted(plan.clients, true);
  const snapshot = (delivered: number): Snapshot => ({
    at: performance.now(), published, delivered, server: plan.server.cpuMicros(), clients: plan.clients.map((c) => cpuMicros(c.pid)), machine: machineTicks(),
  });
  const began = performance.now();
  const mark = began + plan.steadyMs;
  const end = mark + plan.windowMs;
  let published = 0;
  let dropped = 0;
  let lastDelivered = 0;
  let lastProgress = began;
  let first: Snapshot | undefined;
  for (;;) {
    const { frames, closed } = await counted(plan.clients);
    const now = performance.now();
    if (!first && now >= mark) first = snapshot(frames);
    if (now >= end) {
      const last = snapshot(frames);
      const seconds = (last.at - first!.at) / 1000;
      return {
        seconds,
        published: last.published - first!.published,
        delivered: last.delivered - first!.delivered,
        serverMicros: last.server - first!.server,
        clientCores: Math.max(...last.clients.map((c, i) => c - first!.clients[i]!)) / 1e6 / seconds,
        machineBusy: (last.machine.busy - first!.machine.busy) / Math.max(1, last.machine.total - first!.machine.total),
        closed,
      };
    }
    if (closed > 0) throw new Error(`${closed} of ${plan.subscribers} subscribers were closed by the server`);
    if (frames > lastDelivered) {
      lastDelivered = frames;
      lastProgress = now;
    }
    const ahead = published - dropped - frames / plan.subscribers;
    if (ahead < plan.window / 2) {
      const count = Math.ceil(plan.window - ahead);
      await plan.publish(count);
      published += count;
    } else if (now - lastProgress > STALL_MS) {
      dropped = published - frames / plan.subscribers; // lost upstream (e.g. a QoS 0 broker queue): stop waiting for them
      lastProgress = now;
    } else {
      await sleep(2);
    }
  }
}

/** Opens `n` counting subscribers, half in each client process (all in the first for one). */
export async function connect(clients: readonly ClientProcess[], kind: Kind, url: string, n: number): Promise<void> {
  const first = clients.length > 1 && n > 1 ? Math.ceil(n / 2) : n;
  await Promise.all([
    clients[0]!.request({ cmd: 'count', kind, url, count: first }, 120_000),
    ...(n > first ? [clients[1]!.request({ cmd: 'count', kind, url, count: n - first }, 120_000)] : []),
  ]);
}

export async function closeAll(clients: readonly ClientProcess[]): Promise<void> {
  await Promise.all(clients.map((c) => c.request({ cmd: 'close' }, 30_000)));
  await sleep(300);
}
