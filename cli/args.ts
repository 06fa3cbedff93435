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
