/**
 * `sluice dev [APIS_DIR]` (what `npm start` runs): compile the working tree's APIs folder
 * (default `apis`), serve it on 8082 (admin 18082), recompile and hot-swap on every save. On a
 * terminal the log is readable lines (--log-format pretty); no drain delay unless --drain-delay.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ENVIRONMENTS_DIR } from '../compiler/environment.ts';
import { workingTreeSource } from './working-tree.ts';
import { parseServerFlags, serveUntilSignal, UsageError } from './options.ts';

const USAGE = 'usage: sluice dev [APIS_DIR] [--port 8082] [--admin-port 18082] [--host 127.0.0.1] [--admin-host 127.0.0.1] [--log-level info] [--log-format pretty|json] [--drain-delay 0] [--redis URL [--redis-key-prefix P] [--redis-password-file FILE]] [--rate-limit-error-strategy allow|deny] [--catalog-path /catalog] [--tags edge,internal] [--env ENV]\nEvery option also reads SLUICE_<OPTION> (--admin-port: SLUICE_ADMIN_PORT); the flag wins.';

export async function run(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseServerFlags(args, ['--env'], { command: 'dev' });
    if (parsed.parsed.positionals.length > 1) throw new UsageError('give at most one APIS_DIR');
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`sluice dev: ${error.message}\n${USAGE}`);
      return 2;
    }
    throw error;
  }
  const dir = parsed.parsed.positionals[0] ?? 'apis';
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    console.error(`sluice dev: ${dir} is not a folder\n${USAGE}`);
    return 2;
  }
  const environment = parsed.parsed.flags.get('--env');
  if (environment !== undefined && !existsSync(join(dir, ENVIRONMENTS_DIR, `${environment}.json`))) {
    const available = existsSync(join(dir, ENVIRONMENTS_DIR)) ? readdirSync(join(dir, ENVIRONMENTS_DIR)).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort() : [];
    console.error(`sluice dev: there is no environment "${environment}" in ${dir} (no ${ENVIRONMENTS_DIR}/${environment}.json); available: ${available.join(', ') || 'none'}`);
    return 2;
  }
  return serveUntilSignal(parsed.server, workingTreeSource(dir, environment === undefined ? {} : { environment }));
}
