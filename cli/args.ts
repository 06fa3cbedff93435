/**
 * Command-line arguments of the compiler commands: positionals and `--flag VALUE` / `--flag=VALUE`.
 * An unknown flag or a flag without its value is a usage error (exit 2), never ignored.
 */
export class UsageError extends Error {}

export interface ParsedArgs {
  positionals: string[];
  flags: Map<string, string>;
}

/** `valued`: flags that take a value; `switches`: flags that do not (value "true"); `mayBeEmpty`: valued flags for which '' means something. */
export function parseArgs(args: readonly string[], valued: readonly string[], switches: readonly string[] = [], mayBeEmpty: readonly string[] = []): ParsedArgs {
  const positionals: string[] = [];
  const flags = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (switches.includes(name)) {
      if (eq > 0) throw new UsageError(`${name} takes no value`);
      flags.set(name, 'true');
    } else if (valued.includes(name)) {
      const value = eq > 0 ? arg.slice(eq + 1) : args[++i];
      if (value === undefined || (value === '' && !mayBeEmpty.includes(name)) || (eq < 0 && value.startsWith('--'))) throw new UsageError(`${name} needs a value`);
      if (flags.has(name)) throw new UsageError(`${name} given twice`);
      flags.set(name, value);
    } else {
      throw new UsageError(`unknown option ${name}`);
    }
  }
  return { positionals, flags };
}

/** The one allowed value of a flag among `allowed` (default when absent). */
export function choice<T extends string>(flags: Map<string, string>, name: string, allowed: readonly T[], fallback: T | undefined): T | undefined {
  const value = flags.get(name);
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`${name} must be one of ${allowed.join(', ')} (got "${value}")`);
  return value as T;
}

/** The environment variable a flag also reads: `--admin-port` ← `SLUICE_ADMIN_PORT`. */
export function envName(flag: string): string {
  return `SLUICE_${flag.replace(/^--/, '').replace(/-/g, '_').toUpperCase()}`;
}

const TRUE = ['true', '1', 'yes', 'on'];
const FALSE = ['false', '0', 'no', 'off'];

/**
 * Fills the flags argv did not give from `SLUICE_<FLAG>` variables (argv wins). A switch's variable
 * is true/false/1/0; an empty variable counts as unset. Returns the names of the variables used.
 */
export function flagsFromEnv(parsed: ParsedArgs, valued: readonly string[], switches: readonly string[], env: NodeJS.ProcessEnv): string[] {
  const used: string[] = [];
  for (const flag of [...valued, ...switches]) {
    const name = envName(flag);
    const value = env[name];
    if (value === undefined || value === '' || parsed.flags.has(flag)) continue;
    if (switches.includes(flag)) {
      const lower = value.toLowerCase();
      if (FALSE.includes(lower)) continue;
      if (!TRUE.includes(lower)) throw new UsageError(`${name} must be true or false (got "${value}")`);
      parsed.flags.set(flag, 'true');
    } else {
      parsed.flags.set(flag, value);
    }
    used.push(name);
  }
  return used;
}

/**
 * `SLUICE_*` variables that name no flag of the command (nor one of `others`), each with the closest
 * flag's variable when one is near (a typo): what the command warns about once at start.
 */
export function unknownEnv(flags: readonly string[], others: readonly string[], env: NodeJS.ProcessEnv): { name: string; suggestion?: string }[] {
  const known = new Set([...flags.map(envName), ...others]);
  const unknown: { name: string; suggestion?: string }[] = [];
  for (const name of Object.keys(env).sort()) {
    if (!/^SLUICE_[A-Z0-9_]+$/.test(name) || known.has(name) || name.startsWith('SLUICE_TEST_')) continue;
    let suggestion: string | undefined;
    let best = 4;
    for (const candidate of known) {
      const distance = editDistance(name, candidate);
      if (distance < best) [best, suggestion] = [distance, candidate];
    }
    unknown.push({ name, ...(suggestion ? { suggestion } : {}) });
  }
  return unknown;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return 4;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = row;
  }
  return previous[b.length];
}
