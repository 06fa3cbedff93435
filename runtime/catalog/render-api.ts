/**
 * One API's page: description, labels, context paths, a copy-paste example per entrypoint, the
 * plans and how to get a credential, the message schemas of its json-validate steps, and the
 * try-it panel.
 */
import { html, type Html } from './escape.ts';
import { examplePlan, type CatalogApi, type CatalogPlan } from './model.ts';
import { exampleFor } from './examples.ts';
import { layout, linked, type PageContext } from './page.ts';
import { badges, deprecation } from './render-index.ts';
import { tryItPanel, tryItScript } from './try-it.ts';

function planCard(plan: CatalogPlan): Html {
  const how = plan.open
    ? 'No credential: anyone may call.'
    : plan.credential
      ? html`Send the ${plan.credential.name} in the <code>${plan.credential.header}</code> header${plan.credential.prefix ? html` (<code>${plan.credential.prefix}…</code>)` : ''} or the <code>${plan.credential.queryParam}</code> query parameter. ${plan.credential.howToGet}`
      : plan.pushes
        ? 'Messages are delivered to your webhook: the API owner adds a subscription file naming your callback URL (see the webhook example).'
        : '';
  return html`<li class="plan" data-plan="${plan.key}"><strong>${plan.name}</strong> <code>${plan.key}</code>${plan.status === 'deprecated' ? html` <span class="badge deprecated">deprecated</span>` : ''}
${plan.description ? html`<br>${plan.description}` : ''}
<br><span class="muted">${how}</span></li>`;
}

export function renderApi(context: PageContext, api: CatalogApi): string {
  const plan = examplePlan(api);
  const path = api.contextPaths[0]!.replace(/\/+$/, '');
  const examples = api.entrypoints.map((entrypoint) => {
    const example = exampleFor({ api, origin: context.origin, path, plan }, entrypoint);
    return html`<section class="example" data-entrypoint="${entrypoint.type}">
<h3>${example.title}</h3>
<p class="muted">${example.language}</p>
<pre><code>${example.code}</code></pre>
${example.note ? html`<p class="muted">${example.note}</p>` : ''}
</section>`;
  });
  const asyncapi = context.asyncapiHref?.(api.id);
  const body = html`<article class="api" data-api="${api.id}">
<h1>${api.name}</h1>
<p>${badges(api)}</p>
${deprecation(context, api)}
${api.description ? html`<p class="description">${api.description}</p>` : ''}
<p>Context path${api.contextPaths.length > 1 ? 's' : ''}: ${api.contextPaths.map((p, i) => html`${i ? ', ' : ''}<code>${p}</code>`)}${
    asyncapi ? html` · <a href="${asyncapi}">AsyncAPI document</a>` : ''}</p>
<section class="card"><h2>Entrypoints</h2>
${plan?.credential ? html`<p class="muted">Examples use the plan ${plan.name}: replace <code>YOUR_…</code> with your ${plan.credential.name}.</p>` : ''}
${examples}
</section>
<section class="card"><h2>Plans</h2>
${api.plans.length ? html`<ul>${api.plans.map(planCard)}</ul>` : html`<p>No plan is served.</p>`}
</section>
${api.messageSchemas.length ? html`<section class="card"><h2>Message schema</h2>${api.messageSchemas.map((s) => html`<h3>${s.flow === 'publish' ? 'Messages you publish' : 'Messages you receive'}</h3>${
    s.description ? html`<p>${s.description}</p>` : ''}<pre><code>${JSON.stringify(s.schema, null, 2)}</code></pre>`)}</section>` : ''}
${tryItPanel(context, api)}
<p><a href="${linked(context, context.indexHref)}">All APIs</a></p>
</article>`;
  return layout(context, `${api.name} · API catalog`, body, context.tryIt === null ? undefined : tryItScript(context)).value;
}
