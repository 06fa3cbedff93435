/**
 * The catalog's rules without a server: who sees which API (lifecycle, visibility, credential),
 * deprecation with its replacement, and that nothing from a definition becomes markup.
 */
import { describe, expect, it } from 'vitest';
import type { BundleApi } from '../../schemas/types.ts';
import { visibleApis } from '../../runtime/catalog/model.ts';
import { escapeHtml, html, Html } from '../../runtime/catalog/escape.ts';
import { renderIndex } from '../../runtime/catalog/render-index.ts';
import { renderApi } from '../../runtime/catalog/render-api.ts';
import type { PageContext } from '../../runtime/catalog/page.ts';
import { catalogBundle, XSS } from './fixtures.ts';

const all = Object.values(catalogBundle().apis) as BundleApi[];
const started = all.filter((api) => (api.definition.state ?? 'started') === 'started');
const ids = (opens: (api: BundleApi) => boolean, from = started) => visibleApis(from, opens).map((api) => api.id);

const context: PageContext = { nonce: 'n0nce', indexHref: '/catalog', apiHref: (id) => `/catalog/${id}`, origin: 'http://gw.test', tryIt: '' };

describe('visibility', () => {
  it('lists published and deprecated public APIs to everyone, sorted by name; never unpublished, archived or stopped ones', () => {
    expect(ids(() => false)).toEqual(['old-api', 'public-api']);
    expect(ids(() => true, all)).toEqual(['old-api', 'private-api', 'public-api']);
  });

  it('shows a private API only to a caller its credential opens', () => {
    expect(ids((api) => api.id === 'private-api')).toEqual(['old-api', 'private-api', 'public-api']);
    // opening an unpublished API changes nothing: it is never listed
    expect(ids(() => true)).toEqual(['old-api', 'private-api', 'public-api']);
  });

  it('takes the schema defaults: no lifecycle is unpublished, no visibility is private', () => {
    const bare = { ...started[0]!, id: 'bare', definition: { ...started[0]!.definition, lifecycle: undefined, visibility: undefined } } as BundleApi;
    expect(ids(() => true, [bare])).toEqual([]);
    const published = { ...bare, definition: { ...bare.definition, lifecycle: 'published' } } as BundleApi;
    expect(ids(() => false, [published])).toEqual([]);
    expect(ids(() => true, [published])).toEqual(['bare']);
  });

  it('marks a deprecated API and names its replacement only when the caller sees it', () => {
    const old = visibleApis(started, () => false).find((api) => api.id === 'old-api')!;
    expect(old).toMatchObject({ deprecated: true, replacedBy: { id: 'public-api', name: 'Public API' } });
    const alone = visibleApis(started.filter((api) => api.id === 'old-api'), () => false)[0]!;
    expect(alone.deprecated).toBe(true);
    expect(alone.replacedBy).toBeUndefined();
  });
});

describe('escaping', () => {
  it('escapes the five HTML-significant characters, in text and attributes', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
    expect(html`<p title="${'"><script>'}">${'<i>'}${new Html('<b>ok</b>')}${['<', new Html('<br>')]}${null}${undefined}${false}</p>`.value)
      .toBe('<p title="&quot;&gt;&lt;script&gt;">&lt;i&gt;<b>ok</b>&lt;<br></p>');
  });

  it('renders a description, label or name holding markup as text on the index and the API page', () => {
    const apis = visibleApis(started, () => true);
    const index = renderIndex(context, apis);
    const page = renderApi(context, apis.find((api) => api.id === 'public-api')!);
    for (const out of [index, page]) {
      expect(out).not.toContain('<script>window');
      expect(out).not.toContain('<img');
      expect(out).not.toContain('<b>bold</b>');
      expect(out).toContain(escapeHtml(XSS));
      expect(out).toContain('&lt;b&gt;bold&lt;/b&gt;');
      // the only scripts are the catalog's own, carrying the nonce
      for (const tag of out.match(/<script[^>]*>/g) ?? []) expect(tag).toBe('<script nonce="n0nce">');
    }
  });

  it('carries the caller\'s credential along links URL-encoded and escaped', () => {
    const out = renderIndex({ ...context, credential: 'a"b&c' }, visibleApis(started, () => false));
    expect(out).toContain('href="/catalog/public-api?credential=a%22b%26c"');
    expect(out).toContain('value="a&quot;b&amp;c"');
  });
});

describe('API page', () => {
  const page = (id: string, extra: Partial<PageContext> = {}) => renderApi({ ...context, ...extra }, visibleApis(started, () => true).find((api) => api.id === id)!);

  it('has an example per entrypoint, the plans with how to present a credential, and the try-it panel', () => {
    const out = page('private-api');
    expect(out).toContain('new EventSource(&#39;http://gw.test/private-api?api-key=YOUR_API_KEY&#39;)');
    expect(out).toContain('curl -H &#39;X-Api-Key: YOUR_API_KEY&#39; &#39;http://gw.test/private-api?limit=10&#39;');
    expect(out).toContain('<code>X-Api-Key</code> header or the <code>api-key</code> query parameter');
    expect(out).toContain('id="try-it" data-kind="sse" data-url="/private-api"');
    expect(page('public-api')).toContain('new WebSocket(&#39;ws://gw.test/public-api&#39;)');
    expect(page('public-api')).toContain('id="try-it" data-kind="websocket"');
  });

  it('has no try-it panel nor script when there is no gateway to stream from', () => {
    const out = page('public-api', { tryIt: null });
    expect(out).not.toContain('id="try-it"');
    expect(out).not.toContain('<script');
  });

  it('shows the schemas of json-validate steps', () => {
    const [api] = visibleApis(started.filter((a) => a.id === 'public-api').map((a) => ({
      ...a,
      definition: { ...a.definition, flows: { publish: [{ policy: 'json-validate', schema: { type: 'object', required: ['<id>'] } }], subscribe: [] } },
    })), () => false);
    const out = renderApi(context, api!);
    expect(out).toContain('Messages you publish');
    expect(out).toContain('&quot;required&quot;: [\n    &quot;&lt;id&gt;&quot;');
  });
});
