import { entrypointContract } from './entrypoint-suite.ts';

entrypointContract({
  name: 'http-post',
  config: { type: 'http-post' },
  carriesIds: false,
  async publish(base, content) {
    const res = await fetch(base, { method: 'POST', body: new Uint8Array(content), headers: { 'content-type': 'application/octet-stream' } });
    const body = await res.text();
    return { accepted: res.status === 202, detail: `${res.status} ${body}` };
  },
});
