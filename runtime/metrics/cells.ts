/**
 * Labelled plain-number cells behind prom-client metrics. prom-client's own `labels(...).inc()`
 * hashes and validates the label set on every call; the message path cannot pay that. A cell is
 * looked up once (when a meter is bound) and then only `cell.value++` runs; the prom-client metric
 * copies every cell in its `collect()` at scrape time.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export interface Cell {
  value: number;
}

interface Entry extends Cell {
  readonly labels: Record<string, string>;
}

export class CellFamily<L extends string> {
  readonly #cells = new Map<string, Entry>();

  constructor(
    registry: Registry,
    kind: 'counter' | 'gauge',
    name: string,
    help: string,
    readonly labelNames: readonly L[],
  ) {
    const cells = this.#cells;
    if (kind === 'counter') {
      new Counter({
        name, help, labelNames, registers: [registry],
        collect(this: Counter<L>) {
          this.reset();
          for (const cell of cells.values()) this.inc(cell.labels as Partial<Record<L, string>>, cell.value);
        },
      });
    } else {
      new Gauge({
        name, help, labelNames, registers: [registry],
        collect(this: Gauge<L>) {
          this.reset();
          for (const cell of cells.values()) this.set(cell.labels as Partial<Record<L, string>>, cell.value);
        },
      });
    }
  }

  /** The cell for these label values (in `labelNames` order); created at 0 on first use. */
  cell(...values: string[]): Cell {
    const key = values.join('\u0000');
    let cell = this.#cells.get(key);
    if (!cell) {
      const labels: Record<string, string> = {};
      this.labelNames.forEach((name, i) => (labels[name] = values[i] ?? ''));
      cell = { value: 0, labels };
      this.#cells.set(key, cell);
    }
    return cell;
  }

  /** Forgets one cell (a gauge whose subject went away). */
  remove(...values: string[]): void {
    this.#cells.delete(values.join('\u0000'));
  }

  /** Gauges that are recomputed from state (health, info): forget every cell, then set the current ones. */
  clear(): void {
    this.#cells.clear();
  }
}
