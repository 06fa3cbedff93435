/**
 * nginx with the nchan module, the native baseline of the saturation profile: one worker, loopback
 * only, started from a generated config in its own temporary folder and stopped by the benchmark
 * (never port 80, never /etc/nginx). Debian's `nginx` and `libnginx-mod-nchan` packages.
 *
 *   POST /pub   nchan_publisher: each request body is one message on channel `bench`
 *   GET  /sub   nchan_subscriber: WebSocket (text frames) or EventSource (`Accept: text/event-stream`)
 *
 * CPU and RSS are the master's plus the worker's (/proc, as for the Node servers); nothing is added
 * to nginx. `publishBurst` writes pipelined keep-alive POSTs on one socket (at most PIPELINE unanswered).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuMicros, rssBytes, type ServerProcess } from './processes.ts';
import { encodePayload } from './payload.ts';

export const NCHAN_MODULE = process.env.NCHAN_MODULE ?? '/usr/lib/nginx/modules/ngx_nchan_module.so';
const NGINX = process.env.NGINX ?? 'nginx';

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => server.listen(0, '127.0.0.1', resolve).once('error', reject));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function config(dir: string, port: number): string {
  const temp = (name: string) => join(dir, 'tmp', name);
  return `load_module ${NCHAN_MODULE};
${process.getuid?.() === 0 ? 'user root;' : ''}
worker_processes 1;
worker_rlimit_nofile 16384;
error_log ${join(dir, 'error.log')} warn;
pid ${join(dir, 'nginx.pid')};
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path ${temp('body')};
  proxy_temp_path ${temp('proxy')};
  fastcgi_temp_path ${temp('fastcgi')};
  uwsgi_temp_path ${temp('uwsgi')};
  scgi_temp_path ${temp('scgi')};
  keepalive_requests 1000000;
  nchan_shared_memory_size 64m;
  server {
    listen 127.0.0.1:${port};
    location = /pub {
      nchan_publisher http;
      nchan_channel_id bench;
      nchan_message_buffer_length 64;
      client_body_buffer_size 4k;
    }
    location = /sub {
      nchan_subscriber websocket eventsource;
      nchan_channel_id bench;
      nchan_subscriber_first_message newest;
    }
  }
}
`;
}

/** Direct children of `pid` (the nginx worker of a master). */
function childrenOf(pid: number): number[] {
  const listed = `/proc/${pid}/task/${pid}/children`;
  if (existsSync(listed)) return readFileSync(listed, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number).filter((child) => {
    try {
      const stat = readFileSync(`/proc/${child}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
    } catch {
      return false;
    }
  });
}

const sum = (pids: number[], read: (pid: number) => number) => pids.reduce((total, pid) => {
  try {
    return total + read(pid);
  } catch {
    return total; // a worker that just exited
  }
}, 0);

export interface NchanServer extends ServerProcess {
  /** Publishes `count` 256-byte messages (sequence numbers from `seq`) as pipelined POSTs; resolves once all are answered. */
  publishBurst(seq: number, count: number): Promise<void>;
}

/** Starts nginx + nchan; resolves once it answers HTTP. A failure says why (nginx's stderr and error log). */
export async function startNchan(): Promise<NchanServer> {
  if (!existsSync(NCHAN_MODULE)) throw new Error(`nchan: ${NCHAN_MODULE} not found (install Debian's nginx and libnginx-mod-nchan, or set NCHAN_MODULE)`);
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-nchan-'));
  mkdirSync(join(dir, 'tmp'));
  const port = await freePort();
  writeFileSync(join(dir, 'nginx.conf'), config(dir, port));
  let stderr = '';
  const child: ChildProcess = spawn(NGINX, ['-p', dir, '-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-8192)));
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  const why = () => {
    const log = existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8').slice(-3000) : '';
    return `${stderr.trim()}\n${log.trim()}`.trim() || '(no output)';
  };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGQUIT'); // graceful: the worker closes its connections
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await gone;
      clearTimeout(timer);
    }
    process.removeListener('exit', kill);
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const reason = why();
      await stop();
      throw new Error(`nchan: nginx exited (${child.exitCode ?? child.signalCode}) on start:\n${reason}`);
    }
    if ((await fetch(`http://127.0.0.1:${port}/pub`).then((r) => r.status, () => 0)) !== 0) break;
    if (Date.now() > deadline) {
      const reason = why();
      await stop();
      throw new Error(`nchan: nginx did not answer on 127.0.0.1:${port} within 10 s:\n${reason}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const pids = () => [child.pid!, ...childrenOf(child.pid!)];
  const poster = new PipelinedPoster(port);
  return {
    name: 'nchan', pid: child.pid!, url: `http://127.0.0.1:${port}`, lines: [],
    cpuMicros: () => sum(pids(), cpuMicros),
    rssBytes: () => sum(pids(), rssBytes),
    gc: async () => undefined,
    publishBurst: (seq, count) => poster.burst(seq, count),
    stop: async () => {
      poster.close();
      await stop();
    },
  };
}

/** Unanswered POSTs on the publisher's socket at most (bounds what nginx and this process buffer). */
const PIPELINE = 64;

/** HTTP/1.1 keep-alive POSTs to /pub on one socket, pipelined: counts answers by their status lines. */
class PipelinedPoster {
  #socket: net.Socket | undefined;
  #unanswered = 0;
  #tail = '';
  #wake: (() => void) | undefined;
  #failed: Error | undefined;

  constructor(private readonly port: number) {}

  #connect(): net.Socket {
    if (this.#socket && !this.#socket.destroyed) return this.#socket;
    this.#unanswered = 0;
    this.#tail = '';
    const socket = net.connect(this.port, '127.0.0.1');
    socket.setNoDelay(true);
    socket.setEncoding('latin1');
    socket.on('data', (text: string) => {
      const all = this.#tail + text;
      let at = 0;
      let last = 0;
      let answered = 0;
      while ((at = all.indexOf('HTTP/1.1 ', at)) !== -1 && at + 12 <= all.length) {
        const status = all.slice(at + 9, at + 12);
        if (status[0] !== '2') this.#failed = new Error(`nchan publish answered ${status}`);
        answered++;
        last = at += 12;
      }
      this.#tail = all.slice(Math.max(last, all.length - 11));
      this.#unanswered -= answered;
      this.#wake?.();
    });
    socket.on('error', (error) => (this.#failed = error));
    socket.on('close', () => this.#wake?.());
    this.#socket = socket;
    return socket;
  }

  async burst(seq: number, count: number): Promise<void> {
    const socket = this.#connect();
    for (let i = 0; i < count; i++) {
      while (this.#unanswered >= PIPELINE) await this.#answered(socket);
      const body = encodePayload(seq + i);
      this.#unanswered++;
      socket.write(`POST /pub HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.toString('latin1')}`, 'latin1');
    }
    while (this.#unanswered > 0) await this.#answered(socket);
  }

  async #answered(socket: net.Socket): Promise<void> {
    if (this.#failed) throw this.#failed;
    if (socket.destroyed) throw new Error('nchan publisher connection closed');
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 1000);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    if (this.#failed) throw this.#failed;
  }

  close(): void {
    this.#socket?.destroy();
  }
}
