/**
 * What every catalog page shares: the layout (one inline style sheet and scripts, both with the
 * page's nonce), how links carry the caller's credential, and the Content-Security-Policy.
 */
import { html, Html } from './escape.ts';

export interface PageContext {
  /** A fresh random value per response (the runtime) or per export (static): the only inline code allowed to run. */
  readonly nonce: string;
  /** The index page's href. */
  readonly indexHref: string;
  /** An API page's href. */
  apiHref(id: string): string;
  /** The AsyncAPI document's href, when the gateway serves one (hook: see route.ts). */
  asyncapiHref?(id: string): string;
  /** The credential the caller gave the catalog (`?credential=`): carried along links, prefilled in try-it. */
  readonly credential?: string;
  /** The gateway origin the examples name, e.g. https://gateway.example.com. */
  readonly origin: string;
  /** Where the try-it panel connects: '' (the page's own origin), a gateway URL, or null: no panel. */
  readonly tryIt: string | null;
  /** Static export: the policy as a <meta> (no server sets a header there). */
  readonly metaCsp?: string;
}

/**
 * The page's Content-Security-Policy: nothing but this origin, and inline code carrying the nonce.
 * `meta`: for a <meta> tag (static export), which browsers refuse frame-ancestors in.
 */
export function contentSecurityPolicy(nonce: string, connect: readonly string[] = [], meta = false): string {
  return [
    "default-src 'self'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    `connect-src 'self'${connect.map((source) => ` ${source}`).join('')}`,
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    ...(meta ? [] : ["frame-ancestors 'none'"]),
  ].join('; ');
}

/** `href` with the caller's credential, if any. */
export function linked(context: PageContext, href: string): string {
  return context.credential ? `${href}${href.includes('?') ? '&' : '?'}credential=${encodeURIComponent(context.credential)}` : href;
}

const STYLE = `
body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#1d2330;color:#fff;padding:.8rem 1.5rem}header a{color:#fff;text-decoration:none;font-weight:600}
main{max-width:60rem;margin:0 auto;padding:1rem 1.5rem 3rem}
.card{background:#fff;border:1px solid #dde1e8;border-radius:8px;padding:1rem 1.2rem;margin:1rem 0}
.card h2{margin:.1rem 0 .3rem;font-size:1.2rem}
.badge{display:inline-block;font-size:.75rem;padding:.05rem .5rem;border-radius:999px;background:#e8ecf3;margin-right:.3rem}
.badge.deprecated{background:#fde2c8;color:#7a3b00}.badge.private{background:#e3dcf7;color:#3e2a80}
code,pre{font-family:ui-monospace,monospace;font-size:.9rem}
pre{background:#1d2330;color:#e8ecf3;padding:.8rem;border-radius:6px;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
.muted{color:#5c6575}.notice{background:#fff4e5;border:1px solid #f3c48c;border-radius:6px;padding:.6rem .9rem}
form.credential input{width:22rem;max-width:100%}
#try-messages li{font-family:ui-monospace,monospace;background:#eef7ee;margin:.2rem 0;padding:.2rem .5rem;border-radius:4px;list-style:none}
#try-messages{padding:0}
`;

export function layout(context: PageContext, title: string, body: Html, scripts: Html = html``): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
${context.metaCsp ? html`<meta http-equiv="Content-Security-Policy" content="${context.metaCsp}">` : ''}
<title>${title}</title>
<style nonce="${context.nonce}">${new Html(STYLE)}</style>
</head>
<body>
<header><a href="${linked(context, context.indexHref)}">API catalog</a></header>
<main>
${body}
</main>
${scripts}
</body>
</html>
`;
}
