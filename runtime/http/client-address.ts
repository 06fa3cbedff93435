/**
 * The client address of a request: the TCP peer, unless the peer is a trusted proxy
 * (`--trusted-proxies CIDR,…`); then the right-most address of `Forwarded: for=` (RFC 7239), or
 * else of `X-Forwarded-For`, that is not itself a trusted proxy. From any other peer those headers
 * are ignored. It is what the auth-failure throttle, keyless rate limits and the request log use.
 *
 * Parsing is bounded: headers are read from the right, at most MAX_HOPS entries are examined, and
 * an entry that is not an IP address ends the walk (the hop to its right, a proxy, is the client).
 */
import { BlockList, isIP } from 'node:net';

/** Most entries of a Forwarded / X-Forwarded-For header examined (from the right). */
export const MAX_HOPS = 16;

export interface TrustedProxies {
  /** Is `address` (IPv4, IPv6, IPv4-mapped IPv6) inside one of the CIDRs? */
  has(address: string): boolean;
}

/** `10.0.0.0/8,::1/128,127.0.0.1` (a bare address is /32 or /128); throws an Error naming the bad entry. */
export function parseTrustedProxies(value: string): TrustedProxies {
  const list = new BlockList();
  const entries = value.split(',').map((entry) => entry.trim());
  for (const entry of entries) {
    const [address = '', prefix, extra] = entry.split('/');
    const family = isIP(address);
    const bits = prefix === undefined ? (family === 6 ? 128 : 32) : /^\d{1,3}$/.test(prefix) ? Number(prefix) : NaN;
    if (family === 0 || extra !== undefined || !(bits >= 0 && bits <= (family === 6 ? 128 : 32))) {
      throw new Error(`--trusted-proxies: "${entry}" is not a CIDR (e.g. 10.0.0.0/8, 127.0.0.1/32, ::1/128); give a comma-separated list`);
    }
    list.addSubnet(address, bits, family === 6 ? 'ipv6' : 'ipv4');
  }
  return { has: (address) => inList(list, address) };
}

function inList(list: BlockList, address: string): boolean {
  const bare = unmapped(address);
  const family = isIP(bare);
  return family !== 0 && list.check(bare, family === 6 ? 'ipv6' : 'ipv4');
}

/** `::ffff:1.2.3.4` as `1.2.3.4`; other addresses unchanged. */
function unmapped(address: string): string {
  return /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(address) ? address.slice(7) : address;
}

/** The client address of a request from `peer` with these headers (see the module comment). */
export function clientAddress(peer: string, headers: { readonly forwarded?: string | string[]; readonly 'x-forwarded-for'?: string | string[] }, trusted: TrustedProxies | undefined): string {
  if (!trusted || !trusted.has(peer)) return peer;
  const forwarded = joined(headers.forwarded);
  const hops = forwarded !== undefined && /for=/i.test(forwarded) ? forwardedFor(forwarded) : xForwardedFor(joined(headers['x-forwarded-for']) ?? '');
  let client = peer;
  for (const hop of hops) {
    const address = hopAddress(hop);
    if (address === null) break;
    client = address;
    if (!trusted.has(address)) break;
  }
  return client;
}

function joined(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

/** The last MAX_HOPS comma-separated entries, right-most first. */
function lastEntries(header: string, split: (header: string, end: number) => number): string[] {
  const entries: string[] = [];
  let end = header.length;
  while (end > 0 && entries.length < MAX_HOPS) {
    const comma = split(header, end);
    entries.push(header.slice(comma + 1, end).trim());
    end = comma;
  }
  return entries;
}

function xForwardedFor(header: string): string[] {
  return lastEntries(header, (h, end) => h.lastIndexOf(',', end - 1));
}

/** The `for=` values of a Forwarded header's last MAX_HOPS elements, right-most first (`,` inside quotes does not split). */
function forwardedFor(header: string): string[] {
  const elements = lastEntries(header, (h, end) => {
    let quoted = false;
    for (let i = end - 1; i >= 0; i -= 1) {
      if (h[i] === '"') quoted = !quoted;
      else if (h[i] === ',' && !quoted) return i;
    }
    return -1;
  });
  return elements.map((element) => {
    const pair = element.split(';').map((p) => p.trim()).find((p) => /^for=/i.test(p));
    return pair === undefined ? '' : pair.slice(4).replace(/^"(.*)"$/, '$1');
  });
}

/** An IP address out of one hop (`1.2.3.4`, `1.2.3.4:5678`, `[2001:db8::1]:4711`, `2001:db8::1`), or null. */
function hopAddress(hop: string): string | null {
  let address = hop;
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(hop);
  if (bracketed) address = bracketed[1]!;
  else if (/^\d+\.\d+\.\d+\.\d+:\d{1,5}$/.test(hop)) address = hop.slice(0, hop.indexOf(':'));
  address = unmapped(address);
  return isIP(address) === 0 ? null : address.toLowerCase();
}
