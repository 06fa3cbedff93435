/**
 * `--log-format pretty|json` (SLUICE_LOG_FORMAT): JSON lines (pino) by default; `sluice dev` on a
 * terminal prints one readable line per entry instead, coloured when the terminal takes colour:
 *
 *   21:04:05.123 INFO  gateway listening url=http://127.0.0.1:8082 admin=18082
 *
 * Time (local), level, message, then the entry's own fields (service, pid, hostname left out).
 */
import { setLogOutput } from '../runtime/log.ts';

export const LOG_FORMATS = ['pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

const LEVELS: Record<number, { name: string; colour: string }> = {
  10: { name: 'TRACE', colour: '90' },
  20: { name: 'DEBUG', colour: '36' },
  30: { name: 'INFO', colour: '32' },
  40: { name: 'WARN', colour: '33' },
  50: { name: 'ERROR', colour: '31' },
  60: { name: 'FATAL', colour: '35' },
};
const LEFT_OUT = new Set(['level', 'time', 'msg', 'service', 'pid', 'hostname']);
/** Longest printed field value; the rest is cut with an ellipsis. */
const MAX_VALUE = 300;

function paint(text: string, code: string, colour: boolean): string {
  return colour ? `\u001b[${code}m${text}\u001b[0m` : text;
}

function clock(time: unknown): string {
  const date = typeof time === 'string' || typeof time === 'number' ? new Date(time) : new Date();
  if (Number.isNaN(date.getTime())) return String(time);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}.${String(date.getMilliseconds()).padStart(3, '0')}`;
}

function value(field: unknown): string {
  let text: string;
  if (field && typeof field === 'object' && 'message' in field && typeof (field as { message: unknown }).message === 'string') text = (field as { message: string }).message;
  else if (typeof field === 'string') text = /^[^\s"=]+$/.test(field) ? field : JSON.stringify(field);
  else text = JSON.stringify(field) ?? String(field);
  return text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE)}…` : text;
}

/** One JSON log line as a readable line (with its newline); a line that is not JSON is returned as it is. */
export function prettyLine(line: string, colour: boolean): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  if (!entry || typeof entry !== 'object' || Array.isArray(entry)) return line.endsWith('\n') ? line : `${line}\n`;
  const level = LEVELS[entry.level as number] ?? { name: String(entry.level ?? '?').toUpperCase(), colour: '0' };
  const fields = Object.entries(entry)
    .filter(([key, field]) => !LEFT_OUT.has(key) && field !== undefined)
    .map(([key, field]) => `${paint(`${key}=`, '2', colour)}${value(field)}`);
  const parts = [paint(clock(entry.time), '2', colour), paint(level.name.padEnd(5), level.colour, colour), String(entry.msg ?? ''), ...fields];
  return `${parts.filter((part) => part !== '').join(' ')}\n`;
}

/** The format when none is given: pretty for `sluice dev` writing to a terminal, else JSON. */
export function defaultLogFormat(command: 'serve' | 'dev', stdoutIsTty: boolean): LogFormat {
  return command === 'dev' && stdoutIsTty ? 'pretty' : 'json';
}

/** Switches the process's log to `format` (JSON needs nothing: it is pino's own output). */
export function useLogFormat(format: LogFormat, out: NodeJS.WriteStream = process.stdout): void {
  if (format === 'json') return;
  const colour = out.isTTY === true && !process.env.NO_COLOR && out.hasColors?.() !== false;
  setLogOutput((line) => void out.write(prettyLine(line, colour)));
}
