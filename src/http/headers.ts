import type { Request, Response } from 'express';

/** One cookie of the request, or null when absent or empty. */
export function readCookie(req: Request, name: string): string | null {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=') || null;
  }
  return null;
}

function cspDirectives(res: Response): string[] {
  return String(res.getHeader('Content-Security-Policy') ?? "default-src 'self'")
    .split(';')
    .map((d) => d.trim())
    .filter(Boolean);
}

const isDirective = (d: string, name: string) => d === name || d.startsWith(`${name} `);

/** Replaces (or adds) one directive of the CSP header helmet already set on this response. */
export function setCspDirective(res: Response, name: string, value: string): void {
  const directives = cspDirectives(res).filter((d) => !isDirective(d, name));
  directives.push(`${name} ${value}`);
  res.setHeader('Content-Security-Policy', directives.join('; '));
}

/** Adds `source` to each named directive of this response's CSP (creating it if absent). */
export function extendCspDirectives(res: Response, source: string, names: string[]): void {
  const directives = cspDirectives(res);
  for (const name of names) {
    const i = directives.findIndex((d) => isDirective(d, name));
    if (i >= 0) directives[i] = `${directives[i]} ${source}`;
    else directives.push(`${name} ${source}`);
  }
  res.setHeader('Content-Security-Policy', directives.join('; '));
}
