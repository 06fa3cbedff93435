/**
 * The runtime option `--webhook-allowed-hosts host1,host2`: the only hosts webhook callbacks may
 * call. Unset: any host. Entries: `example.com` (that host, any port), `example.com:8443` (that
 * host and port), `*.example.com` (any subdomain, not example.com itself), IP literals
 * (`127.0.0.1`, `[::1]`). Matching is on the callback URL's host name, case-insensitive. One list per gateway (startGateway's `webhookAllowedHosts`); a
 * subscription whose host is not allowed does not start (state failure, CALLBACK_HOST_NOT_ALLOWED).
 */

export interface AllowedHost {
  /** Lowercased host name (IPv6 without brackets) or, for wildcards, the suffix with its leading dot. */
  readonly host: string;
  readonly wildcard: boolean;
  readonly port?: string;
}

/** Parses the flag's value; throws an Error naming a malformed entry. */
export function parseAllowedHosts(value: string): AllowedHost[] {
  const entries = value.split(',').map((entry) => entry.trim()).filter(Boolean);
  if (entries.length === 0) throw new Error('--webhook-allowed-hosts needs at least one host');
  return entries.map((entry) => {
    const wildcard = entry.startsWith('*.');
    let url: URL;
    try {
      url = new URL(`http://${wildcard ? entry.slice(2) : entry}`);
    } catch {
      throw new Error(`--webhook-allowed-hosts: "${entry}" is not a host name`);
    }
    if (url.username || url.password || url.pathname !== '/' || url.search || url.hash) {
      throw new Error(`--webhook-allowed-hosts: "${entry}" is not a host name (give host or host:port)`);
    }
    const host = bare(url.hostname);
    const port = /:\d+$/.test(entry) ? entry.slice(entry.lastIndexOf(':') + 1) : undefined;
    return { host: wildcard ? `.${host}` : host, wildcard, ...(port ? { port } : {}) };
  });
}

/** Is this callback URL's host allowed? Always true without a list. */
export function hostAllowed(url: URL, allowed: readonly AllowedHost[] | undefined): boolean {
  if (!allowed) return true;
  const host = bare(url.hostname);
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return allowed.some((entry) => {
    if (entry.port !== undefined && entry.port !== port) return false;
    return entry.wildcard ? host.endsWith(entry.host) && host.length > entry.host.length : host === entry.host;
  });
}

function bare(hostname: string): string {
  const lower = hostname.toLowerCase();
  const unbracketed = lower.startsWith('[') && lower.endsWith(']') ? lower.slice(1, -1) : lower;
  return unbracketed.endsWith('.') ? unbracketed.slice(0, -1) : unbracketed;
}
