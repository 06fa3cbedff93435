/**
 * A message template, compiled once per bundle: the Kafka record key (`producer.key`), the
 * RabbitMQ routing key (`producer.routingKey`).
 *
 * A template of constant text and placeholders: `{header.NAME}` (message header, case-insensitive
 * name), `{metadata.NAME}`, `{$.path.to[0].field}` (JSON content; parsed once per message, only
 * when the template uses it). A template that is exactly one placeholder yields no key (`null`,
 * so Kafka's partitioner spreads records) when the value is missing; inside a longer template a
 * missing value is the empty string. Objects and arrays are written as JSON.
 */
import type { PublishMessage } from '../../core/message.ts';
import { splitReferences } from '../../core/channel.ts';

type Part = (message: PublishMessage, json: () => unknown) => string | undefined;

const PLACEHOLDER = /\{(header\.[^{}]+|metadata\.[^{}]+|\$(?:\.[^{}.[\]]+|\[\d+\])*)\}/g;
const UNSAFE = new Set(['__proto__', 'constructor', 'prototype']);

export function compileRecordKey(template: string): (message: PublishMessage) => string | null {
  const parts: Part[] = [];
  let last = 0;
  let usesJson = false;
  for (const match of template.matchAll(PLACEHOLDER)) {
    if (match.index > last) {
      const text = template.slice(last, match.index);
      parts.push(() => text);
    }
    const expression = match[1]!;
    if (expression.startsWith('header.')) {
      const name = expression.slice('header.'.length).toLowerCase();
      parts.push((m) => {
        for (const [key, value] of Object.entries(m.headers)) if (key.toLowerCase() === name) return value;
        return undefined;
      });
    } else if (expression.startsWith('metadata.')) {
      const name = expression.slice('metadata.'.length);
      parts.push((m) => (Object.hasOwn(m.metadata, name) ? text(m.metadata[name]) : undefined));
    } else {
      usesJson = true;
      const path = [...expression.slice(1).matchAll(/\.([^.[\]]+)|\[(\d+)\]/g)].map((s) => s[1] ?? Number(s[2]));
      parts.push((_m, json) => text(walk(json(), path)));
    }
    last = match.index + match[0].length;
  }
  if (last < template.length) {
    const rest = template.slice(last);
    parts.push(() => rest);
  }
  const single = parts.length === 1;
  return (message) => {
    let parsed: unknown;
    let done = !usesJson;
    const json = () => {
      if (!done) {
        done = true;
        try {
          parsed = JSON.parse(message.content.toString('utf8'));
        } catch {
          parsed = undefined;
        }
      }
      return parsed;
    };
    if (single) return parts[0]!(message, json) ?? null;
    return parts.map((part) => part(message, json) ?? '').join('');
  };
}

/**
 * A template that also names channel parameters (`orders.{region}.{header.kind}`), compiled once:
 * the placeholders per message, and each parameter's value from `value(name)` put in as it is — a
 * caller's value is never read as a placeholder, whatever braces it holds. Without parameters it is
 * compileRecordKey's (null for a lone missing placeholder); with them, missing placeholders are ''.
 */
export function compileParameterTemplate(template: string): (message: PublishMessage, value: (name: string) => string) => string | null {
  const pieces = splitReferences(template);
  if (pieces.length === 1) {
    const fixed = compileRecordKey(template);
    return (message) => fixed(message);
  }
  // Even pieces are literal text with placeholders, odd pieces parameter names.
  const segments = pieces.map((piece, index) => (index % 2 === 0 ? compileRecordKey(piece) : undefined));
  return (message, value) => {
    let out = '';
    for (let index = 0; index < pieces.length; index++) {
      const segment = segments[index];
      out += segment ? segment(message) ?? '' : value(pieces[index]!);
    }
    return out;
  };
}

function walk(value: unknown, path: ReadonlyArray<string | number>): unknown {
  let current = value;
  for (const step of path) {
    if (current === null || typeof current !== 'object') return undefined;
    if (typeof step === 'string' && UNSAFE.has(step)) return undefined;
    if (!Object.hasOwn(current, step)) return undefined;
    current = (current as Record<string | number, unknown>)[step];
  }
  return current;
}

function text(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}
