/**
 * The live "try it" panel of an API page: a few messages streamed into the page through the API
 * itself (EventSource on an sse entrypoint, else WebSocket on a subscribing websocket one), with the
 * credential the caller types. Messages are shown with textContent, never as markup. The only part
 * of the catalog that needs JavaScript.
 */
import type { Entrypoint } from '../../schemas/types.ts';
import { html, Html } from './escape.ts';
import { examplePlan, type CatalogApi } from './model.ts';
import { streamOf } from './examples.ts';
import type { PageContext } from './page.ts';

/** Messages shown before the panel closes its stream. */
export const TRY_IT_MESSAGES = 5;

/** The transport the panel uses, if the API has one a browser can stream with (EventSource first: it needs no upgrade). */
export function tryItKind(entrypoints: readonly Entrypoint[]): 'sse' | 'websocket' | undefined {
  const streams = new Set(entrypoints.map(streamOf));
  return streams.has('eventsource') ? 'sse' : streams.has('websocket') ? 'websocket' : undefined;
}

export function tryItPanel(context: PageContext, api: CatalogApi): Html {
  const kind = tryItKind(api.entrypoints);
  if (context.tryIt === null || !kind) return html``;
  const url = `${context.tryIt}${api.contextPaths[0]!.replace(/\/+$/, '')}`;
  const plans = api.plans.filter((plan) => !plan.pushes);
  const preferred = examplePlan(api);
  return html`<section class="card" id="try-it" data-kind="${kind}" data-url="${url}" data-limit="${TRY_IT_MESSAGES}">
<h2>Try it</h2>
<noscript><p>The try-it panel needs JavaScript; the examples above work without it.</p></noscript>
<form id="try-form">
<label>Plan <select id="try-plan">${plans.map((plan) => html`<option value="${plan.key}" data-param="${plan.credential?.queryParam ?? ''}"${plan === preferred ? html` selected` : ''}>${plan.name}${plan.credential ? ` (${plan.credential.name})` : ' (no credential)'}</option>`)}</select></label>
<label>Credential <input id="try-credential" type="password" autocomplete="off" value="${context.credential ?? ''}"></label>
<button type="submit" id="try-start">Stream ${TRY_IT_MESSAGES} messages</button>
</form>
<p id="try-status" class="muted">Not connected (${kind === 'sse' ? 'EventSource' : 'WebSocket'} to <code>${url || '/'}</code>).</p>
<ol id="try-messages" aria-live="polite"></ol>
</section>`;
}

/** The panel's script (inline, with the page's nonce). */
export function tryItScript(context: PageContext): Html {
  return html`<script nonce="${context.nonce}">${new Html(SCRIPT)}</script>`;
}

const SCRIPT = `
(function () {
  var panel = document.getElementById('try-it');
  if (!panel) return;
  var form = document.getElementById('try-form');
  var list = document.getElementById('try-messages');
  var status = document.getElementById('try-status');
  var stream = null;
  function stop(text) {
    if (stream) { stream.close(); stream = null; }
    if (text) status.textContent = text;
  }
  function show(data) {
    var item = document.createElement('li');
    item.textContent = String(data);
    list.appendChild(item);
    var limit = Number(panel.dataset.limit);
    status.textContent = 'Received ' + list.children.length + ' of ' + limit + ' messages.';
    if (list.children.length >= limit) stop('Received ' + limit + ' messages; stream closed.');
  }
  form.addEventListener('submit', function (event) {
    event.preventDefault();
    stop();
    list.textContent = '';
    var option = document.getElementById('try-plan').selectedOptions[0];
    var param = option ? option.dataset.param : '';
    var credential = document.getElementById('try-credential').value.trim();
    var url = new URL(panel.dataset.url || '/', location.href);
    if (param && credential) url.searchParams.set(param, credential);
    status.textContent = 'Connecting…';
    if (panel.dataset.kind === 'sse') {
      var source = new EventSource(url.href);
      stream = source;
      source.onopen = function () { status.textContent = 'Connected; waiting for messages…'; };
      source.onmessage = function (e) { show(e.data); };
      source.onerror = function () { if (stream === source) stop('The stream failed (a wrong or missing credential is refused with 401).'); };
    } else {
      url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
      var ws = new WebSocket(url.href);
      stream = ws;
      ws.onopen = function () { status.textContent = 'Connected; waiting for messages…'; };
      ws.onmessage = function (e) { show(typeof e.data === 'string' ? e.data : '[binary frame]'); };
      ws.onclose = function (e) { if (stream === ws) stop(e.code === 1006 ? 'The handshake was refused (a wrong or missing credential is refused with 401).' : 'Closed (' + e.code + ').'); };
    }
  });
})();
`;
