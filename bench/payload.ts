/**
 * The benchmark message: exactly 256 ASCII bytes of valid JSON with a sequence number and the
 * publish time, at fixed offsets so a receiver reads them without parsing:
 *
 *   {"seq":"0000000123","t":"0000001234567890","pad":"xxxx…"}
 *
 * `t` is microseconds of the monotonic clock (`process.hrtime`, CLOCK_MONOTONIC), which every
 * process on one machine shares: receive time minus `t` is the end-to-end latency.
 */
export const PAYLOAD_BYTES = 256;

const HEAD = '{"seq":"';
const MID = '","t":"';
const TAIL = '","pad":"';
const SEQ_AT = HEAD.length;
const T_AT = SEQ_AT + 10 + MID.length;
const PAD = 'x'.repeat(PAYLOAD_BYTES - (T_AT + 16 + TAIL.length + 2));

/** Microseconds of the shared monotonic clock. */
export const nowMicros = (): number => Number(process.hrtime.bigint() / 1000n);

export function encodePayload(seq: number, t = nowMicros()): Buffer {
  return Buffer.from(`${HEAD}${String(seq).padStart(10, '0')}${MID}${String(t).padStart(16, '0')}${TAIL}${PAD}"}`, 'latin1');
}

/** Sequence number and publish time of a payload starting at `at` in `data` (a Buffer or a string). */
export function decodePayload(data: Buffer | string, at = 0): { seq: number; t: number } {
  if (typeof data === 'string') {
    return { seq: Number(data.slice(at + SEQ_AT, at + SEQ_AT + 10)), t: Number(data.slice(at + T_AT, at + T_AT + 16)) };
  }
  return { seq: Number(data.toString('latin1', at + SEQ_AT, at + SEQ_AT + 10)), t: Number(data.toString('latin1', at + T_AT, at + T_AT + 16)) };
}

/** Percentile (0..100) of an unsorted sample, nearest rank; NaN when empty. */
export function percentile(values: Float64Array | number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** Bounded latency recorder (microseconds): keeps at most `capacity` samples, evenly thinned beyond. */
export class Latencies {
  #values: Float64Array;
  #length = 0;
  #seen = 0;

  constructor(capacity = 400_000) {
    this.#values = new Float64Array(capacity);
  }

  add(micros: number): void {
    this.#seen++;
    if (this.#length < this.#values.length) this.#values[this.#length++] = micros;
    else {
      // Reservoir sampling keeps the sample unbiased once full.
      const i = Math.floor(Math.random() * this.#seen);
      if (i < this.#values.length) this.#values[i] = micros;
    }
  }

  get count(): number {
    return this.#seen;
  }

  summary(): { p50: number; p99: number; max: number } {
    const sample = this.#values.subarray(0, this.#length);
    let max = Number.NaN;
    for (const v of sample) if (!(v <= max)) max = v;
    return { p50: percentile(sample, 50), p99: percentile(sample, 99), max };
  }

  reset(): void {
    this.#length = 0;
    this.#seen = 0;
  }
}
