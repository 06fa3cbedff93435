// An independent NATS client for end-to-end tests, run as its own process (`node nats-cli.mjs ...`),
// standing in for the `nats` CLI (not packaged for Debian): nats.js only, never the gateway's code.
//   pub <url> <subject> <header=value,...|-> <text>...    core publish, flushed
//   jspub <url> <subject> <header=value,...|-> <text>...  JetStream publish; prints each sequence
//   sub <url> <subject> <count>                           prints "ready", then one JSON line per message
//   stream-add <url> <name> <subject>...                  creates a JetStream stream (file storage) unless it exists
import { connect, headers } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';

const [command, url, subject, ...rest] = process.argv.slice(2);
const nc = await connect({ servers: url, reconnect: false, timeout: 5000 });
const hdrs = (spec) => {
  if (!spec || spec === '-') return undefined;
  const h = headers();
  for (const pair of spec.split(',')) {
    const at = pair.indexOf('=');
    h.set(pair.slice(0, at), pair.slice(at + 1));
  }
  return h;
};
if (command === 'pub' || command === 'jspub') {
  const [spec, ...texts] = rest;
  const js = jetstream(nc);
  for (const text of texts) {
    if (command === 'pub') nc.publish(subject, text, { headers: hdrs(spec) });
    else process.stdout.write(`${(await js.publish(subject, text, { headers: hdrs(spec) })).seq}\n`);
  }
  await nc.flush();
} else if (command === 'sub') {
  const count = Number(rest[0] ?? 1);
  const sub = nc.subscribe(subject, { max: count });
  await nc.flush();
  process.stdout.write('ready\n');
  for await (const m of sub) {
    const h = {};
    for (const [k, v] of m.headers ?? []) h[k] = v.join(',');
    process.stdout.write(`${JSON.stringify({ subject: m.subject, data: m.string(), headers: h })}\n`);
  }
} else if (command === 'stream-add') {
  const jsm = await jetstreamManager(nc);
  const exists = await jsm.streams.info(subject).then(() => true, () => false);
  if (!exists) await jsm.streams.add({ name: subject, subjects: rest });
  process.stdout.write(`stream ${subject}: ${rest.join(' ')}\n`);
} else {
  process.stderr.write(`unknown command ${command}\n`);
  process.exitCode = 2;
}
await nc.close();
