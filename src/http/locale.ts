import type { Request } from 'express';

export type Locale = 'de' | 'en';

/** German first: English only when the client prefers it over German. */
export function requestLocale(req: Request, fallback: Locale = 'de'): Locale {
  const explicit = typeof req.query?.lang === 'string' ? req.query.lang : undefined;
  if (explicit === 'de' || explicit === 'en') return explicit;
  const best = req.acceptsLanguages('de', 'en');
  return best === 'de' || best === 'en' ? best : fallback;
}
