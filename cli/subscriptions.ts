/**
 * `sluice subscriptions list [--admin URL] [--json]`
 * `sluice subscriptions resume NAME [--api API] [--admin URL]`
 *
 * Talks to a running gateway's admin port (default http://127.0.0.1:18082): lists its webhook
 * subscriptions, or resumes one in state `failure` (its held message is retried first). One
 * instance per call: with several instances, resume each (or redeploy).
 * Exit codes: 0 done, 1 the gateway refused (not found, ambiguous) or is unreachable, 2 usage.
 */
import { parseArgs, UsageError } from './args.ts';

const USAGE = 'usage: sluice subscriptions list [--admin URL] [--json]\n       sluice subscriptions resume NAME [--api API] [--admin URL]';
const TIMEOUT_MS = 10_000;

interface SubscriptionRow {
  api: string;
  subscription: string;
  state: string;
  callback: string;
  delivered: number;
  deadLettered: number;
  lastError: { message: string; at: string } | null;
}

export async function run(args: string[]): Promise<number> {
  let action: string | undefined;
  let name: string | undefined;
  let admin: string;
  let api: string | undefined;
  let asJson = false;
  try {
    const { positionals, flags } = parseArgs(args, ['--admin', '--api'], ['--json']);
    [action, name] = positionals;
    if (action === 'resume' && (!name || positionals.length !== 2)) throw new UsageError('resume needs exactly one subscription NAME');
    if (action === 'list' && positionals.length !== 1) throw new UsageError(`unexpected argument ${positionals[1]}`);
    if (action !== 'resume' && action !== 'list') throw new UsageError(action ? `unknown action "${action}"` : 'give an action: list or resume');
    admin = (flags.get('--admin') ?? 'http://127.0.0.1:18082').replace(/\/+$/, '');
    if (!/^https?:\/\//.test(admin)) throw new UsageError('--admin must be an http(s) URL, e.g. http://127.0.0.1:18082');
    api = flags.get('--api');
    asJson = flags.has('--json');
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`sluice subscriptions: ${error.message}\n${USAGE}`);
      return 2;
    }
    throw error;
  }

  try {
    if (action === 'list') {
      const res = await fetch(`${admin}/subscriptions`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
      const body = (await res.json()) as { subscriptions?: SubscriptionRow[]; message?: string };
      if (!res.ok) return refused(res.status, body);
      const rows = body.subscriptions ?? [];
      if (asJson) console.log(JSON.stringify(rows, null, 2));
      else if (rows.length === 0) console.log('no webhook subscriptions running');
      else for (const row of rows) console.log(describe(row));
      return 0;
    }
    const query = api ? `?api=${encodeURIComponent(api)}` : '';
    const res = await fetch(`${admin}/subscriptions/${encodeURIComponent(name!)}/resume${query}`, { method: 'POST', signal: AbortSignal.timeout(TIMEOUT_MS) });
    const body = (await res.json()) as { api?: string; subscription?: string; resumed?: boolean; state?: string; message?: string };
    if (!res.ok) return refused(res.status, body);
    console.log(body.resumed ? `resumed ${body.api}/${body.subscription} (state ${body.state})` : `${body.api}/${body.subscription} was not in failure (state ${body.state})`);
    return 0;
  } catch (error) {
    console.error(`sluice subscriptions: cannot reach the admin port at ${admin}: ${(error as Error).message}`);
    return 1;
  }
}

function refused(status: number, body: { message?: string }): number {
  console.error(`sluice subscriptions: HTTP ${status}: ${body.message ?? JSON.stringify(body)}`);
  return 1;
}

function describe(row: SubscriptionRow): string {
  const error = row.lastError ? `  last error ${row.lastError.at}: ${row.lastError.message}` : '';
  return `${row.api}/${row.subscription}  ${row.state}  delivered ${row.delivered}  dead-lettered ${row.deadLettered}  -> ${row.callback}${error}`;
}
