import type { Message } from '../message.ts';

/** Returned by {@link contentJson} when the content is not JSON. */
export const NOT_JSON: unique symbol = Symbol('not JSON');

const jsonCache = new WeakMap<Message, unknown>();
const textCache = new WeakMap<Message, string>();

/**
 * The message content parsed as JSON, or NOT_JSON. Parsed at most once per message object
 * (messages are immutable, so a fanout that runs one subscribe flow per client parses once).
 * The returned value is shared: callers must never mutate it.
 */
export function contentJson(message: Message): unknown {
  if (jsonCache.has(message)) return jsonCache.get(message);
  let value: unknown;
  try {
    value = JSON.parse(contentText(message));
  } catch {
    value = NOT_JSON; // syntax error, or nesting too deep for the parser (RangeError)
  }
  jsonCache.set(message, value);
  return value;
}

/** The content decoded as UTF-8 (invalid sequences become U+FFFD). Decoded at most once per message object. */
export function contentText(message: Message): string {
  let text = textCache.get(message);
  if (text === undefined) {
    text = message.content.toString('utf8');
    textCache.set(message, text);
  }
  return text;
}

/** A plain JSON-like object: prototype Object.prototype or null (never a class instance, function or Buffer). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Property names that reach an object's prototype chain: refused in expressions and transform paths. */
export const UNSAFE_PROPERTIES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
