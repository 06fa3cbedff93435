/**
 * `npm run bench:compile`: generate 1,000 and 10,000 APIs in a temporary folder and time
 * read + validate + check + bundle (compileFolder), after one warm-up run. Not a test: it prints
 * the times against the targets (1,000 APIs under 1 s, 10,000 under 5 s) and exits 1 when missed.
 *
 * Each generated API is realistic: api.json with three entrypoints and a Kafka or mock endpoint,
 * two plans (one api-key, one jwt) and one subscription per plan.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { compileFolder } from '../compiler/index.ts';

const SIZES: [count: number, targetMs: number][] = [
  [1_000, 1_000],
  [10_000, 5_000],
];

async function generate(dir: string, count: number): Promise<void> {
  const writes: Promise<void>[] = [];
  const flush = async () => {
    await Promise.all(writes);
    writes.length = 0;
  };
  for (let i = 0; i < count; i++) {
    const id = `api-${String(i).padStart(5, '0')}`;
    const kafka = i % 2 === 0;
    await mkdir(join(dir, id, 'plans'), { recursive: true });
    await mkdir(join(dir, id, 'subscriptions'), { recursive: true });
    const api = {
      $schema: '../../schemas/api.schema.json',
      name: `API ${i}`,
      description: 'Generated for the compile benchmark.',
      state: 'started',
      lifecycle: 'published',
      visibility: 'public',
      contextPaths: [`/team-${i % 97}/api-${i}`],
      entrypoints: [{ type: 'http-get', messagesLimitCount: 100 }, { type: 'websocket' }, { type: 'sse' }],
      endpoints: kafka
        ? [{ type: 'kafka', bootstrapServers: ['127.0.0.1:9092'], consumer: { topics: [`topic-${i}`] }, producer: { topic: `topic-${i}` } }]
        : [{ type: 'mock', messageInterval: 500 }],
      flows: { subscribe: [{ policy: 'message-filter', condition: '$.amount > 10' }], publish: [] },
    };
    const hash = createHash('sha256').update(`key-${i}`).digest('hex');
    writes.push(
      writeFile(join(dir, id, 'api.json'), JSON.stringify(api, null, 2)),
      writeFile(join(dir, id, 'plans', 'gold.json'), JSON.stringify({ type: 'api-key', name: 'Gold', status: 'published', rateLimit: { limit: 100 } }, null, 2)),
      writeFile(join(dir, id, 'plans', 'partners.json'), JSON.stringify({ type: 'jwt', name: 'Partners', status: 'published', signature: 'HS256', secret: { env: 'JWT_SECRET' } }, null, 2)),
      writeFile(join(dir, id, 'subscriptions', 'acme.json'), JSON.stringify({ plan: 'gold', apiKeys: [{ hash }] }, null, 2)),
      writeFile(join(dir, id, 'subscriptions', 'globex.json'), JSON.stringify({ plan: 'partners', clientId: `globex-${i}` }, null, 2)),
    );
    if (writes.length >= 500) await flush();
  }
  await flush();
}

async function time(dir: string): Promise<{ ms: number; apis: number; errors: number }> {
  const start = performance.now();
  const { bundle, diagnostics } = await compileFolder(dir);
  const ms = performance.now() - start;
  if (diagnostics.length) console.error(diagnostics.slice(0, 3));
  return { ms, apis: bundle ? Object.keys(bundle.apis).length : 0, errors: diagnostics.length };
}

let missed = false;
const root = await mkdtemp(join(tmpdir(), 'sluice-bench-compile-'));
try {
  for (const [count, target] of SIZES) {
    const dir = join(root, String(count));
    await generate(dir, count);
    await time(dir); // warm-up: module loading, JIT, file cache
    const runs = [await time(dir), await time(dir), await time(dir)];
    const best = Math.min(...runs.map((r) => r.ms));
    const median = runs.map((r) => r.ms).sort((a, b) => a - b)[1];
    const ok = runs[0].errors === 0 && runs[0].apis === count && median < target;
    missed ||= !ok;
    console.log(
      `compile ${count.toLocaleString('en')} APIs (${count * 5} files): median ${median.toFixed(0)} ms, best ${best.toFixed(0)} ms` +
        ` — target < ${target} ms: ${ok ? 'met' : 'MISSED'}${runs[0].errors ? ` (${runs[0].errors} diagnostics!)` : ''}`,
    );
  }
} finally {
  await rm(root, { recursive: true, force: true });
}
process.exitCode = missed ? 1 : 0;
