/**
 * Shutdown as a load balancer needs it: on SIGTERM `sluice serve` turns /readyz 503 first, keeps
 * serving for --drain-delay, then closes as before and exits 0. Also: `--log-format pretty`
 * writes readable lines, and the default when stdout is not a terminal is JSON.
 */
import { expect, it } from 'vitest';
import { makeBundle } from '../support/bundles.ts';
import { serve } from '../observability/serve-process.ts';

const bundle = makeBundle({ a: { definition: { endpoints: [{ type: 'mock', messageInterval: 20 }] } } });

it('SIGTERM: /readyz is 503 while the gateway port still answers, then the process exits 0', async () => {
  const runtime = await serve(bundle, ['--drain-delay', '4', '--log-level', 'info']);
  expect((await fetch(`${runtime.adminUrl}/readyz`)).status).toBe(200);
  runtime.signal();
  await runtime.line((l) => l.event === 'draining', 10_000, 'the draining line');
  const readyz = await fetch(`${runtime.adminUrl}/readyz`);
  expect(readyz.status).toBe(503);
  expect((await readyz.json()).reason).toContain('draining');
  const served = await fetch(`${runtime.url}/a?limit=1`, { headers: { accept: 'application/json' } });
  expect(served.status).toBe(200);
  expect((await served.json()).items).toHaveLength(1);
  expect(await runtime.stop()).toBe(0);
  const events = runtime.lines.map((l) => l.event).filter((e) => e === 'shutdown' || e === 'draining' || e === 'stopped');
  expect(events).toEqual(['shutdown', 'draining', 'stopped']);
  expect(runtime.lines.find((l) => l.event === 'shutdown')).toMatchObject({ drainDelayMs: 4000 });
}, 40_000);

it('the --drain-delay flag wins over SLUICE_DRAIN_DELAY; 0 closes at once', async () => {
  const runtime = await serve(bundle, ['--log-level', 'info'], { SLUICE_DRAIN_DELAY: '7' });
  // The helper passes --drain-delay 0 on the command line: the flag wins over the variable.
  expect(await runtime.stop()).toBe(0);
  expect(runtime.lines.find((l) => l.event === 'shutdown')).toMatchObject({ drainDelayMs: 0 });
}, 40_000);

it('--log-format pretty prints one readable line per entry; without it (stdout not a terminal) JSON', async () => {
  const pretty = await serve(bundle, ['--log-format', 'pretty', '--log-level', 'info']);
  await pretty.stop();
  const text = pretty.output();
  expect(text).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}gateway listening .*url=http:\/\/127\.0\.0\.1:\d+/m);
  expect(text).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}deployed .*bundleId=[0-9a-f]{64}/m);
  expect(text).not.toContain('"level":');
  expect(text).not.toContain('\u001b['); // not a terminal: no colour
  const json = await serve(bundle, ['--log-level', 'info']);
  await json.stop();
  expect(json.lines.some((l) => l.msg === 'gateway listening' && typeof l.level === 'number')).toBe(true);
  expect(json.lines.every((l) => !l.unparsed)).toBe(true);
}, 40_000);
