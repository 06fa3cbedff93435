/**
 * `sluice asyncapi [APIS_DIR] --out DIR [--server-url URL]`
 * Validates and compiles the folder in memory (nothing else written) and writes one AsyncAPI 3.0.0
 * document per API, DIR/<api-id>.asyncapi.json (core/asyncapi/build.ts). `--server-url` is where
 * clients reach the gateway (default http://localhost:8082). Exit 0 written, 1 diagnostics (nothing
 * written), 2 usage or I/O error.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildAsyncApi, DEFAULT_SERVER_URL } from '../core/asyncapi/build.ts';
import { parseArgs, UsageError } from './args.ts';
import { compileOrReport, fail } from './report.ts';

const USAGE = 'usage: sluice asyncapi [APIS_DIR] --out DIR [--server-url http://localhost:8082]';

function serverUrl(value: string | undefined): string {
  if (value === undefined) return DEFAULT_SERVER_URL;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--server-url must be an absolute http:// or https:// URL (got "${value}")`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--server-url must start with http:// or https:// (got "${value}"); ws:// and wss:// follow from it`);
  return value;
}

export async function run(args: string[]): Promise<number> {
  let out: string;
  let root: string;
  let url: string;
  try {
    const { positionals, flags } = parseArgs(args, ['--out', '--server-url']);
    if (positionals.length > 1) throw new UsageError(`one APIS_DIR at most (got ${positionals.join(' ')})`);
    const dir = flags.get('--out');
    if (!dir) throw new UsageError('--out DIR is required');
    out = dir;
    root = positionals[0] ?? 'apis';
    url = serverUrl(flags.get('--server-url'));
  } catch (error) {
    if (error instanceof UsageError) return fail('asyncapi', `${error.message}\n${USAGE}`);
    throw error;
  }
  const bundle = await compileOrReport('asyncapi', root);
  if (typeof bundle === 'number') return bundle;
  try {
    await mkdir(out, { recursive: true });
    for (const api of Object.values(bundle.apis)) {
      const file = join(out, `${api.id}.asyncapi.json`);
      await writeFile(file, `${JSON.stringify(buildAsyncApi(api, { serverUrl: url }), null, 2)}\n`);
      process.stdout.write(`wrote ${file}\n`);
    }
  } catch (error) {
    return fail('asyncapi', `cannot write to ${out}: ${(error as Error).message}`);
  }
  return 0;
}
