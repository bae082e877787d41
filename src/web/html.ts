import type { Locale } from '../http/locale.js';

/** HTML-escaped text; `Raw` marks markup we built ourselves. */
export class Raw {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

type Value = string | number | boolean | null | undefined | Raw | Value[];

function render(value: Value): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof Raw) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

/** Tagged template: every interpolation is escaped unless it is `Raw` (e.g. nested `html`). */
export function html(strings: TemplateStringsArray, ...values: Value[]): Raw {
  let out = strings[0]!;
  values.forEach((v, i) => (out += render(v) + strings[i + 1]!));
  return new Raw(out);
}

export interface PageOptions {
  title: string;
  locale: Locale;
  body: Raw;
  /** Extra scripts from /assets (CSP allows only 'self'). */
  scripts?: string[];
}

/** The page frame: German first, accessible (lang, landmarks, skip link), fits Moodle's iframe. */
export function layout({ title, locale, body, scripts = [] }: PageOptions): string {
  return `<!doctype html>
<html lang="${locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} – Schulbrücke</title>
<link rel="stylesheet" href="/assets/app.css">
${scripts.map((s) => `<script src="/assets/${escapeHtml(s)}" defer></script>`).join('\n')}
</head>
<body>
<a class="skip" href="#main">${locale === 'de' ? 'Zum Inhalt springen' : 'Skip to content'}</a>
<main id="main">
${body.value}
</main>
</body>
</html>`;
}
