/** What bench/run.ts hands each section. */
import type { Brokers } from './bundles.ts';
import type { ClientProcess, ServerProcess } from './processes.ts';
import type { Publisher } from './publisher.ts';
import type { Result } from './report.ts';

export interface BenchContext {
  readonly brokers: Brokers;
  readonly clients: ClientProcess;
  readonly publisher: Publisher;
  /** A temporary folder for bundle files. */
  readonly work: string;
  readonly quick: boolean;
  /** Prints one JSON line and keeps the result for the table. */
  record(result: Result): void;
  /** A progress line on stderr. */
  progress(text: string): void;
  /** What the table should say besides the numbers (skipped or failed cases). */
  readonly notes: string[];
  /** Is there time for something taking `ms` before the run's deadline? */
  timeLeft(ms: number): boolean;
  /** Starts a server the run stops even when a case fails. */
  serverOf<T extends ServerProcess>(start: () => Promise<T>): Promise<T>;
  stopServer(server: ServerProcess): Promise<void>;
  createTopics(brokers: Brokers, topics: string[]): Promise<void>;
  /** Fan-out client counts. */
  readonly sizes: readonly number[];
  /** Fan-out `broker-entrypoint` pairs to run (all when undefined). */
  readonly cases?: readonly string[];
  /** Fan-out measurement window per case. */
  readonly seconds: number;
}
