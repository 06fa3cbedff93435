import type { Message } from '../message.ts';

export type Direction = 'publish' | 'subscribe';

/**
 * A compiled policy step. Returns the (new) message, or null to drop it.
 * On publish it may throw a GatewayError (400, 413) that the client sees.
 * Built when the bundle is built; the per-message path only runs this closure.
 */
export type PolicyStep = (message: Message) => Message | null;

export type PolicyFactory<Config> = (config: Config, direction: Direction) => PolicyStep;
