/**
 * docs/reference/errors.md lists every code the compiler and runtime emit. The codes are read from
 * the source: the keys of compiler/codes.ts, and every UPPER_SNAKE string literal in core/,
 * compiler/, runtime/ and cli/ (plus one-word codes: given to GatewayError or as `code: '…'`), minus the names that
 * are not ours (environment variables, Node, jose, Kafka protocol errors, Kafka security protocols).
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CODES } from '../../compiler/codes.ts';
import { read, ROOT } from './markdown.ts';

/** Upper-case names in the source that are not codes of Sluice. */
const NOT_OURS = [
  /^ERR_/, // Node and jose error codes
  /^SLUICE_/, // environment variables (docs/guides/operations.md), not codes
  /^OTEL_/, // OpenTelemetry environment variables (docs/reference/tracing.md), not codes
  /^E[A-Z]+$/, // errno codes (ENOENT, ENOTDIR, …)
  /^HPE_/, // Node's HTTP parser
  /^GIT_(DIR|INDEX_FILE|NAMESPACE|OBJECT_DIRECTORY|WORK_TREE)$/, // git environment variables cleared
  /^SASL_(PLAINTEXT|SSL)$/, // Kafka security.protocol values
  /^(REBALANCE_IN_PROGRESS|NOT_COORDINATOR_FOR_GROUP|ILLEGAL_GENERATION|UNKNOWN_MEMBER_ID|MESSAGE_TOO_LARGE|RECORD_LIST_TOO_LARGE|LEADER_NOT_AVAILABLE|UNKNOWN_TOPIC_OR_PARTITION)$/, // Kafka protocol errors
];

function sourceFiles(dir: string): string[] {
  return (readdirSync(join(ROOT, dir), { recursive: true }) as string[])
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(ROOT, dir, f));
}

function emittedCodes(): Set<string> {
  const codes = new Set(Object.keys(CODES));
  for (const file of ['core', 'compiler', 'runtime', 'cli'].flatMap(sourceFiles)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)'/g)) codes.add(m[1]);
    for (const m of text.matchAll(/GatewayError\(\s*'([A-Z]+)'/g)) codes.add(m[1]);
    for (const m of text.matchAll(/code: '([A-Z]+)'/g)) codes.add(m[1]);
  }
  for (const code of codes) if (NOT_OURS.some((re) => re.test(code))) codes.delete(code);
  return codes;
}

describe('docs/reference/errors.md', () => {
  const page = read('docs/reference/errors.md');
  const listed = new Set([...page.matchAll(/^\| `([A-Z][A-Z0-9_]*)` \|/gm)].map((m) => m[1]));
  const codes = emittedCodes();

  it('reads the codes from the source (the compiler table, runtime errors, log codes)', () => {
    for (const code of ['JSON_SYNTAX', 'RELEASE_API_REMOVED', 'POLICY_INVALID_CONDITION', 'NOT_READY', 'INTERNAL', 'CALLBACK_HOST_NOT_ALLOWED', 'KAFKA_BATCH_UNDECODABLE', 'STARTED_API_REMOVED']) {
      expect(codes).toContain(code);
    }
    expect(codes).not.toContain('SASL_SSL');
  });

  it('has a table row for every code the compiler and runtime emit', () => {
    expect([...codes].filter((code) => !listed.has(code)).sort()).toEqual([]);
  });

  it('lists no code that nothing emits (a renamed or removed code leaves no stale row)', () => {
    expect([...listed].filter((code) => !codes.has(code)).sort()).toEqual([]);
  });

  it('gives each compiler code the meaning compiler/codes.ts gives it', () => {
    for (const [code, meaning] of Object.entries(CODES)) {
      expect(page).toContain(`| \`${code}\` | ${meaning.replace(/\|/g, '\\|')} |`);
    }
  });
});
