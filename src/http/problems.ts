/**
 * The problem types the API answers with. The `type` URI is stable; titles are
 * German first, English when the client prefers it (Accept-Language).
 */
export const PROBLEM_BASE = 'urn:schulbruecke:problem:';

export const problemTitles: Record<string, { de: string; en: string }> = {
  'bad-request': { de: 'Ungültige Anfrage', en: 'Bad request' },
  'malformed-json': { de: 'Der Inhalt ist kein gültiges JSON', en: 'The body is not valid JSON' },
  'validation-failed': { de: 'Die Eingaben sind nicht gültig', en: 'The input is not valid' },
  unauthenticated: { de: 'Anmeldung erforderlich', en: 'Authentication required' },
  forbidden: { de: 'Keine Berechtigung', en: 'Not permitted' },
  'policy-denied': { de: 'Nach den Nutzungsregeln nicht erlaubt', en: 'Not allowed by the usage rules' },
  'not-found': { de: 'Nicht gefunden', en: 'Not found' },
  conflict: { de: 'Konflikt mit dem bestehenden Zustand', en: 'Conflict with the current state' },
  'payload-too-large': { de: 'Die Anfrage ist zu groß', en: 'The request is too large' },
  'unsupported-media-type': { de: 'Nicht unterstütztes Format', en: 'Unsupported media type' },
  'rate-limited': { de: 'Zu viele Versuche', en: 'Too many attempts' },
  'backend-failed': { de: 'Das Konferenzsystem antwortet nicht wie erwartet', en: 'The conference system did not answer as expected' },
  'upstream-failed': { de: 'Ein angebundenes System antwortet nicht wie erwartet', en: 'A connected system did not answer as expected' },
  'database-unavailable': { de: 'Die Datenbank ist gerade nicht erreichbar', en: 'The database is not reachable right now' },
  'not-ready': { de: 'Der Dienst ist noch nicht bereit', en: 'The service is not ready yet' },
  restricted: { de: 'Verarbeitung eingeschränkt (Art. 18 DSGVO)', en: 'Processing restricted (Art. 18 GDPR)' },
  'batch-item-failed': { de: 'Ein Eintrag des Stapels wurde abgelehnt; nichts wurde gespeichert', en: 'An entry of the batch was refused; nothing was saved' },
  gone: { de: 'Nicht mehr verfügbar', en: 'No longer available' },
  internal: { de: 'Interner Fehler', en: 'Internal error' },
};

export function problemTitle(type: string, locale: 'de' | 'en'): string {
  return problemTitles[type]?.[locale] ?? problemTitles.internal![locale];
}
