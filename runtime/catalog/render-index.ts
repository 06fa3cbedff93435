/** The catalog's index: one card per API the caller sees, and a form to present a credential. */
import { html, type Html } from './escape.ts';
import type { CatalogApi } from './model.ts';
import { layout, linked, type PageContext } from './page.ts';

/** The lifecycle and visibility badges of an API. */
export function badges(api: CatalogApi): Html {
  return html`<span class="badge">v${api.version}</span>${api.deprecated ? html`<span class="badge deprecated">deprecated</span>` : ''}${
    api.visibility === 'private' ? html`<span class="badge private">private</span>` : ''}${api.labels.map((label) => html`<span class="badge label">${label}</span>`)}`;
}

/** "Deprecated: use X instead." (with a link when the replacement is listed). */
export function deprecation(context: PageContext, api: CatalogApi): Html {
  if (!api.deprecated) return html``;
  return html`<p class="notice deprecated">This API is deprecated: it takes no new subscriptions.${
    api.replacedBy ? html` Use <a href="${linked(context, context.apiHref(api.replacedBy.id))}">${api.replacedBy.name}</a> instead.` : ''}</p>`;
}

export function renderIndex(context: PageContext, apis: readonly CatalogApi[], options: { readonly credentialForm: boolean } = { credentialForm: true }): string {
  const cards = apis.map((api) => html`<article class="card api" data-api="${api.id}">
<h2><a href="${linked(context, context.apiHref(api.id))}">${api.name}</a></h2>
<p>${badges(api)}</p>
${api.description ? html`<p class="description">${api.description}</p>` : ''}
${deprecation(context, api)}
<p class="muted">${api.contextPaths.map((path, i) => html`${i ? ', ' : ''}<code>${path}</code>`)} · ${api.entrypoints.map((e, i) => html`${i ? ', ' : ''}${e.type}`)}</p>
</article>`);
  const form = options.credentialForm
    ? html`<form class="credential" method="get" action="${context.indexHref}">
<label>Private APIs show with a credential of theirs (API key or token): <input type="password" name="credential" autocomplete="off" value="${context.credential ?? ''}"></label>
<button type="submit">Show</button>
</form>`
    : '';
  const body = html`<h1>APIs</h1>
<p class="muted">${apis.length === 1 ? '1 API' : `${apis.length} APIs`}</p>
${form}
${apis.length ? cards : html`<p>No API is published here yet.</p>`}`;
  return layout(context, 'API catalog', body).value;
}
