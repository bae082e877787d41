import type { Locale } from '../http/locale.js';
import { html, layout } from '../web/html.js';
import type { FailureReason } from './login.js';

interface Explanation {
  status: number;
  de: { title: string; text: string };
  en: { title: string; text: string };
  ruleIds?: string[];
}

const again = { de: 'Bitte die Anmeldung über IServ neu beginnen.', en: 'Please start the sign-in from IServ again.' };

/** Every way an IServ login can fail, with what the person can do about it. */
export const FAILURES: Record<FailureReason, Explanation> = {
  'unknown-tenant': {
    status: 404,
    de: { title: 'Schule nicht gefunden', text: 'Unter dieser Adresse ist keine Schule eingerichtet. Bitte den Link aus IServ verwenden oder die Schul-IT fragen.' },
    en: { title: 'School not found', text: 'No school is set up at this address. Please use the link from IServ or ask your school IT.' },
    ruleIds: ['ACC-04'],
  },
  'not-configured': {
    status: 404,
    de: { title: 'IServ-Anmeldung nicht eingerichtet', text: 'Für diese Schule ist die Anmeldung über IServ noch nicht eingerichtet. Bitte die Schul-IT informieren.' },
    en: { title: 'IServ sign-in not set up', text: 'Sign-in through IServ has not been set up for this school yet. Please tell your school IT.' },
  },
  state: {
    status: 400,
    de: { title: 'Anmeldung abgelaufen oder ungültig', text: `Diese Antwort von IServ gehört zu keiner offenen Anmeldung in diesem Browser (abgelaufen, schon verwendet oder für eine andere Schule). ${again.de}` },
    en: { title: 'Sign-in expired or invalid', text: `This answer from IServ belongs to no open sign-in in this browser (expired, already used, or for another school). ${again.en}` },
    ruleIds: ['ACC-04'],
  },
  'wrong-issuer': {
    status: 400,
    de: { title: 'Antwort von einem anderen Server', text: 'Die Anmeldung kam nicht von dem IServ, den die Schule eingetragen hat. Aus Sicherheitsgründen wurde sie abgelehnt. Bitte die Schul-IT informieren.' },
    en: { title: 'Answer from another server', text: 'The sign-in did not come from the IServ your school registered, so it was refused. Please tell your school IT.' },
  },
  denied: {
    status: 403,
    de: { title: 'Zugriff nicht erlaubt', text: 'In IServ wurde der Zugriff der Schulbrücke nicht erlaubt. Ohne diese Zustimmung ist keine Anmeldung möglich. Sie können es erneut versuchen.' },
    en: { title: 'Access not allowed', text: 'Access for Schulbrücke was not allowed in IServ. Signing in needs this consent. You can try again.' },
  },
  refused: {
    status: 400,
    de: { title: 'IServ hat die Anmeldung abgelehnt', text: `IServ hat die Anmeldung nicht bestätigt. ${again.de} Wenn es wieder scheitert, bitte die Schul-IT informieren.` },
    en: { title: 'IServ refused the sign-in', text: `IServ did not confirm the sign-in. ${again.en} If it fails again, please tell your school IT.` },
  },
  'invalid-response': {
    status: 400,
    de: { title: 'Ungültige Antwort von IServ', text: `Die Antwort von IServ konnte nicht bestätigt werden. ${again.de}` },
    en: { title: 'Invalid answer from IServ', text: `The answer from IServ could not be verified. ${again.en}` },
  },
  'invalid-claims': {
    status: 400,
    de: { title: 'Unvollständige Angaben von IServ', text: 'IServ hat keine verwertbare Kennung geliefert. Bitte die Schul-IT bitten, die Bereiche (Scopes) „openid profile email uuid groups roles“ freizugeben.' },
    en: { title: 'Incomplete data from IServ', text: 'IServ sent no usable identifier. Please ask your school IT to allow the scopes “openid profile email uuid groups roles”.' },
  },
  unreachable: {
    status: 502,
    de: { title: 'IServ nicht erreichbar', text: 'IServ hat nicht wie erwartet geantwortet. Bitte später noch einmal versuchen.' },
    en: { title: 'IServ not reachable', text: 'IServ did not answer as expected. Please try again later.' },
  },
  insecure: {
    status: 503,
    de: { title: 'Unsichere Verbindung', text: 'Der eingetragene IServ ist nur über http erreichbar. Anmeldungen sind nur über https möglich (SEC-02). Bitte die Schul-IT informieren.' },
    en: { title: 'Insecure connection', text: 'The registered IServ uses plain http. Sign-in needs https (SEC-02). Please tell your school IT.' },
    ruleIds: ['SEC-02'],
  },
  'no-role': {
    status: 403,
    de: { title: 'Keine passende Rolle', text: 'Ihre IServ-Rolle ist in der Schulbrücke keiner Rolle zugeordnet. Bitte die Schul-IT bitten, die Rollenzuordnung zu ergänzen.' },
    en: { title: 'No matching role', text: 'Your IServ role is not mapped to a role in Schulbrücke. Please ask your school IT to extend the role mapping.' },
  },
  'account-deleted': {
    status: 403,
    de: { title: 'Konto gelöscht', text: 'Ihr Konto in der Schulbrücke wurde gelöscht und kann nur von der Schule wiederhergestellt werden (RET-06).' },
    en: { title: 'Account deleted', text: 'Your Schulbrücke account was deleted; only your school can restore it (RET-06).' },
    ruleIds: ['RET-06'],
  },
  internal: {
    status: 500,
    de: { title: 'Interner Fehler', text: 'Bei der Anmeldung ist ein unerwarteter Fehler aufgetreten. Bitte später noch einmal versuchen; wenn es wieder scheitert, bitte die Schul-IT informieren.' },
    en: { title: 'Internal error', text: 'Something unexpected went wrong during sign-in. Please try again later; if it fails again, please tell your school IT.' },
  },
};

export function failurePage(reason: FailureReason, locale: Locale, loginHref: string | null): { status: number; body: string } {
  const f = FAILURES[reason];
  const t = f[locale];
  const body = html`<h1>${t.title}</h1>
<p role="alert">${t.text}</p>
${f.ruleIds?.length ? html`<p class="rules">${locale === 'de' ? 'Regel' : 'Rule'}: ${f.ruleIds.join(', ')}</p>` : ''}
${loginHref ? html`<p><a href="${loginHref}">${locale === 'de' ? 'Erneut über IServ anmelden' : 'Sign in through IServ again'}</a></p>` : ''}`;
  return { status: f.status, body: layout({ title: t.title, locale, body }) };
}
