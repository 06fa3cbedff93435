/**
 * `npm run bench:startup`: time to ready and idle RSS of `node bin/sluice.js serve --bundle FILE`
 * (the quickstart API) run from the build (dist/, what the package ships) and from the TypeScript
 * sources through tsx (SLUICE_FROM_SOURCES=1, how bin/sluice.js ran before the build existed).
 * Not a test: it prints a table (median of RUNS each, the two alternating) with the dist / tsx
 * ratios and writes it to bench/results/startup.md. `npm run bench:startup` builds dist/ first.
 *
 * Time to ready = spawn → first 200 from the admin /readyz (polled every 10 ms).
 * Idle RSS = /proc VmRSS after 2 s of idling with no request, before SIGTERM.
 */
import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileFolder } from '../compiler/index.ts';
import { machine } from './report.ts';
import { rssBytes } from './processes.ts';

const RUNS = Number(process.env.STARTUP_RUNS ?? 5);
const IDLE_MS = 2_000;

type Mode = 'dist' | 'tsx';
interface Sample {
  readyMs: number;
  rssBytes: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function once(mode: Mode, bundleFile: string): Promise<Sample> {
  const env = { ...process.env };
  if (mode === 'tsx') env.SLUICE_FROM_SOURCES = '1';
  else delete env.SLUICE_FROM_SOURCES;
  const start = performance.now();
  const child = spawn(process.execPath, ['bin/sluice.js', 'serve', '--bundle', bundleFile, '--port', '0', '--admin-port', '0', '--log-level', 'warn'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  try {
    let admin: string | undefined;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`sluice serve (${mode}) exited ${child.exitCode}:\n${stderr}`);
      if (performance.now() - start > 60_000) throw new Error(`sluice serve (${mode}) not ready within 60 s:\n${stderr}`);
      admin ??= /sluice: serving \S+ \(admin (\S+)\)/.exec(stderr)?.[1];
      if (admin && (await fetch(`${admin}/readyz`).then((r) => r.status, () => 0)) === 200) break;
      await sleep(10);
    }
    const readyMs = performance.now() - start;
    await sleep(IDLE_MS);
    return { readyMs, rssBytes: rssBytes(child.pid!) };
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const f = (value: number, digits = 0): string => value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

const dir = await mkdtemp(join(tmpdir(), 'sluice-bench-startup-'));
try {
  await cp('apis/qs-message-api', join(dir, 'apis/qs-message-api'), { recursive: true });
  const { bundle, diagnostics } = await compileFolder(join(dir, 'apis'));
  if (!bundle) throw new Error(`apis/qs-message-api does not compile: ${JSON.stringify(diagnostics.slice(0, 3))}`);
  const bundleFile = join(dir, 'bundle.json');
  await writeFile(bundleFile, JSON.stringify(bundle));
  const samples: Record<Mode, Sample[]> = { dist: [], tsx: [] };
  await once('dist', bundleFile); // warm-up: file cache
  await once('tsx', bundleFile);
  for (let run = 0; run < RUNS; run++) {
    for (const mode of ['dist', 'tsx'] as const) samples[mode].push(await once(mode, bundleFile));
  }
  const ready = { dist: median(samples.dist.map((s) => s.readyMs)), tsx: median(samples.tsx.map((s) => s.readyMs)) };
  const rss = { dist: median(samples.dist.map((s) => s.rssBytes)) / 2 ** 20, tsx: median(samples.tsx.map((s) => s.rssBytes)) / 2 ** 20 };
  const m = machine();
  const report = [
    '# Sluice benchmark — start-up (`npm run bench:startup`)',
    '',
    `Machine: ${m.cpus} CPUs (${m.model}), Node ${m.node}, ${m.date}. \`node bin/sluice.js serve --bundle\` of the quickstart API (mock endpoint), median of ${RUNS} runs each, alternating.`,
    'dist = the build the package ships (`npm run build`); tsx = the TypeScript sources through tsx (`SLUICE_FROM_SOURCES=1`, how every run started before the build).',
    `Time to ready = spawn → first 200 from /readyz; idle RSS = VmRSS after ${IDLE_MS / 1000} s without requests.`,
    '',
    '| measure | dist | tsx sources | **dist / tsx** |',
    '| --- | ---: | ---: | ---: |',
    `| time to ready, ms | ${f(ready.dist)} | ${f(ready.tsx)} | **${f(ready.dist / ready.tsx, 2)}** |`,
    `| idle RSS, MiB | ${f(rss.dist, 1)} | ${f(rss.tsx, 1)} | **${f(rss.dist / rss.tsx, 2)}** |`,
    '',
  ].join('\n');
  console.log(report);
  await mkdir('bench/results', { recursive: true });
  await writeFile('bench/results/startup.md', report);
} finally {
  await rm(dir, { recursive: true, force: true });
}
