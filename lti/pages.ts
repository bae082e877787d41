import type { Request, Response } from 'express';
import { setCspDirective } from '../src/http/headers.js';
import { requestLocale } from '../src/http/locale.js';
import { html, layout, type Raw } from '../src/web/html.js';

/** A refusal as a page (German first): status, a sentence saying what happened and what to do. */
export function errorPage(req: Request, res: Response, status: number, detail: string, options: { frameOrigin?: string; ruleIds?: string[] } = {}): void {
  const locale = requestLocale(req);
  if (options.frameOrigin) setCspDirective(res, 'frame-ancestors', options.frameOrigin);
  const title = locale === 'de' ? 'Start nicht möglich' : 'Launch not possible';
  const body: Raw = html`<h1>${title}</h1>
<p role="alert">${detail}</p>
${options.ruleIds && options.ruleIds.length > 0 ? html`<p class="rules">${locale === 'de' ? 'Regel' : 'Rule'}: ${options.ruleIds.join(', ')}</p>` : ''}`;
  res.status(status).type('html').send(layout({ title, locale, body }));
}

export function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}
