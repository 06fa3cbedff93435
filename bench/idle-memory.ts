/**
 * Memory per idle subscriber, in process: a gateway over Mosquitto (MQTT QoS 0, a shared
 * subscription as in the fanout bench), N raw-socket clients in a child process (so their own
 * sockets do not count), full GC before and after, RSS and heapUsed growth per client.
 *
 *   node --expose-gc bin/run-ts.js bench/idle-memory.ts [--clients 1000] [--kind sse|ws] [--snapshot DIR] [--sources]
 *
 * The gateway is the build (dist/, `npm run build` first), as `sluice serve` and `npm run bench` run
 * it: `--sources` runs the TypeScript sources instead, through tsx, whose esbuild transform names
 * every function with `Object.defineProperty` (hundreds of bytes more per closure than the build).
 *
 * `--snapshot DIR` writes DIR/idle-0.heapsnapshot and DIR/idle-N.heapsnapshot (compare them in
 * Chrome DevTools' Comparison view: what each stream retains).
 */
import { spawn } from 'node:child_process';
import { writeHeapSnapshot } from 'node:v8';
import { join } from 'node:path';
import { startMosquitto } from '../test/support/brokers/mosquitto-broker.ts';
import { bundle, streamApi } from './bundles.ts';

const arg = (name: string, fallback: string) => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : process.argv[at + 1]!;
};
const clients = Number(arg('clients', '1000'));
const kind = arg('kind', 'sse');
const snapshotDir = arg('snapshot', '');
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

const settle = async () => {
  for (let i = 0; i < 4; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    gc();
  }
  return process.memoryUsage();
};

// The clients: N sockets that send one request and read whatever comes.
const CLIENT = `
const net = require('node:net');
const [port, n, kind] = process.argv.slice(1);
const request = kind === 'ws'
  ? 'GET /idle/ HTTP/1.1\\r\\nHost: x\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\\r\\nSec-WebSocket-Version: 13\\r\\n\\r\\n'
  : 'GET /idle/ HTTP/1.1\\r\\nHost: x\\r\\nAccept: text/event-stream\\r\\n\\r\\n';
let ready = 0;
for (let i = 0; i < Number(n); i++) {
  const socket = net.connect(Number(port), '127.0.0.1', () => socket.write(request));
  let seen = false;
  socket.on('data', () => { if (!seen) { seen = true; if (++ready === Number(n)) process.send('ready'); } });
  socket.on('error', (e) => { console.error(e.message); process.exit(1); });
}
`;

const fromSources = process.argv.includes('--sources');
type Gateway = typeof import('../runtime/gateway.ts');
type Log = typeof import('../runtime/log.ts');
const [{ startGateway }, { setLogLevel }] = fromSources
  ? await Promise.all([import('../runtime/gateway.ts') as Promise<Gateway>, import('../runtime/log.ts') as Promise<Log>])
  : await Promise.all([import('../dist/runtime/gateway.js' as string) as Promise<Gateway>, import('../dist/runtime/log.js' as string) as Promise<Log>]);
setLogLevel('silent');
const broker = await startMosquitto();
const gateway = await startGateway({ port: 0, adminPort: null, shutdownGraceMs: 1000 });
const deployed = await gateway.deploy(bundle([streamApi('idle', { kafka: '', mqtt: broker.url }, 'mqtt', 'idle/memory')]));
if (!deployed.deployed) throw new Error(`bundle did not deploy: ${deployed.error}`);

// One client first, so that everything made once per API (the fanout, the broker subscription) is in the baseline.
const warm = spawn(process.execPath, ['-e', CLIENT, String(gateway.port), '1', kind], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
await new Promise((resolve) => warm.once('message', resolve));
const before = await settle();
if (snapshotDir) writeHeapSnapshot(join(snapshotDir, 'idle-0.heapsnapshot'));
const child = spawn(process.execPath, ['-e', CLIENT, String(gateway.port), String(clients), kind], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
await new Promise((resolve) => child.once('message', resolve));
const after = await settle();
if (snapshotDir) writeHeapSnapshot(join(snapshotDir, `idle-${clients}.heapsnapshot`));
const per = (key: 'rss' | 'heapUsed' | 'heapTotal' | 'external' | 'arrayBuffers') => Math.round((after[key] - before[key]) / clients);
console.log(JSON.stringify({ kind, clients, rssPerClient: per('rss'), heapPerClient: per('heapUsed'), heapTotalPerClient: per('heapTotal'), externalPerClient: per('external') }));
child.kill();
warm.kill();
await gateway.close();
await broker.close();
process.exit(0);
