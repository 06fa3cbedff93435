/**
 * Compile: runs the compiler helper's `bench/compile.ts` (it generates 1,000 and 10,000 APIs and
 * times compileFolder, median of three after a warm-up) in its own process and turns its lines
 * into results.
 */
import { spawn } from 'node:child_process';
import type { BenchContext } from './context.ts';
import type { CompileCase } from './cases.ts';

const LINE = /^compile ([\d,]+) APIs \((\d+) files\): median (\d+) ms, best (\d+) ms — target < (\d+) ms: (met|MISSED)/;

export async function compileSection(ctx: BenchContext): Promise<void> {
  if (!ctx.timeLeft(90_000)) {
    ctx.notes.push('compile skipped: the run reached its time budget');
    return;
  }
  ctx.progress('compile 1,000 and 10,000 APIs');
  const child = spawn(process.execPath, ['bin/run-ts.js', 'bench/compile.ts'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), budget(ctx));
  await new Promise<void>((resolve) => child.once('close', () => resolve()));
  clearTimeout(timer);
  let found = 0;
  for (const line of output.split('\n')) {
    const m = LINE.exec(line.trim());
    if (!m) continue;
    found++;
    ctx.record({ case: 'compile', apis: Number(m[1]!.replace(/,/g, '')), files: Number(m[2]), medianMs: Number(m[3]), bestMs: Number(m[4]), targetMs: Number(m[5]), met: m[6] === 'met' });
  }
  if (found === 0) ctx.notes.push(`compile: bench/compile.ts printed no result (${output.trim().split('\n').at(-1) ?? 'no output'})`);
}

/** How long the compile run may take: up to the run's deadline. */
function budget(ctx: BenchContext): number {
  let ms = 180_000;
  while (ms > 10_000 && !ctx.timeLeft(ms)) ms -= 10_000;
  return ms;
}
