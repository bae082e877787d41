import type { Request, Response } from 'express';
import { requestLocale } from '../src/http/locale.js';
import { html, layout, type Raw } from '../src/web/html.js';

/** Replaces (or adds) one directive of the CSP header helmet already set on this response. */
export function setCspDirective(res: Response, directive: string, value: string): void {
  const current = String(res.getHeader('Content-Security-Policy') ?? '');
  const parts = current
    .split(';')
    .map((p) => p.trim())
    .filter((p) => p && !p.startsWith(`${directive} `) && p !== directive);
  parts.push(`${directive} ${value}`);
  res.setHeader('Content-Security-Policy', parts.join('; '));
}

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
