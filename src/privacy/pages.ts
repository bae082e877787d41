import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { AppContext } from '../context.js';
import { requestLocale, type Locale } from '../http/locale.js';
import { csrfField, csrfMatches, loadSession, type Session } from '../session/index.js';
import { DAY } from '../shared/clock.js';
import { ProblemError } from '../shared/errors.js';
import { toTenant } from '../tenants/store.js';
import { html, layout, type Raw } from '../web/html.js';
import { REQUEST_TYPES, statusLabel, transition, type RequestStatus, type RequestType } from './policy.js';
import { processingRegister, registerHtml } from './register.js';
import {
  cancelRequest,
  createDownloadLink,
  decideRequest,
  fileRequest,
  listRequests,
  liftRestriction,
  processRequest,
  readMessage,
  useDownloadLink,
  type Actor,
} from './requests.js';
import { sendArchive } from './download.js';

const TYPE_LABELS: Record<RequestType, { de: string; en: string }> = {
  export: { de: 'Auskunft: Kopie meiner Daten (Art. 15, 20 DSGVO)', en: 'Access: a copy of my data (Art. 15, 20 GDPR)' },
  erasure: { de: 'Löschung meiner Daten (Art. 17 DSGVO)', en: 'Erasure of my data (Art. 17 GDPR)' },
  restriction: { de: 'Einschränkung der Verarbeitung (Art. 18 DSGVO)', en: 'Restriction of processing (Art. 18 GDPR)' },
  objection: { de: 'Widerspruch gegen die Videoübertragung (Art. 21 DSGVO)', en: 'Objection to video (Art. 21 GDPR)' },
  rectification: { de: 'Berichtigung falscher Daten (Art. 16 DSGVO)', en: 'Rectification (Art. 16 GDPR)' },
  other: { de: 'Frage an die/den Datenschutzbeauftragte(n)', en: 'A question to the data-protection officer' },
};

type Handler = (req: Request, res: Response, session: Session) => Promise<void>;

/** Pages answer in HTML, also when they refuse (German first). */
function page(ctx: AppContext, handler: Handler, options: { dpo?: boolean; csrf?: boolean } = {}) {
  return async (req: Request, res: Response, next: NextFunction) => {
    const locale = requestLocale(req);
    try {
      const session = await loadSession(ctx.db, ctx.clock, req);
      if (!session) throw new ProblemError(401, 'unauthenticated', locale === 'de' ? 'Bitte öffnen Sie diese Seite über Moodle oder melden Sie sich über IServ an.' : 'Please open this page from Moodle or sign in through IServ.');
      if (options.dpo && !session.roles.includes('dpo')) throw new ProblemError(403, 'forbidden', 'Diese Seite ist der/dem Datenschutzbeauftragten vorbehalten (DSR-05).', { ruleIds: ['DSR-05'] });
      if (options.csrf && !csrfMatches(session, req.body)) {
        throw new ProblemError(403, 'forbidden', 'Das Formular ist abgelaufen; bitte die Seite neu laden.');
      }
      await handler(req, res, session);
    } catch (error) {
      if (!(error instanceof ProblemError) || res.headersSent) return next(error);
      res
        .status(error.status)
        .type('html')
        .send(layout({ title: locale === 'de' ? 'Nicht möglich' : 'Not possible', locale, body: html`<h1>${locale === 'de' ? 'Das ging nicht' : 'That did not work'}</h1><div class="notice error" role="alert"><p>${error.detail ?? error.type}</p>${error.ruleIds.length ? html`<p class="rule">${error.ruleIds.join(', ')}</p>` : ''}</div><p><a href="/privacy/me">${locale === 'de' ? 'Zurück zu „Meine Daten“' : 'Back to “My data”'}</a></p>` }));
    }
  };
}

const subjectOf = (s: Session): Actor => ({ kind: 'subject', tenantId: s.tenantId, userId: s.userId });
const dpoOf = (s: Session): Actor => ({ kind: 'dpo-session', tenantId: s.tenantId, userId: s.userId });
const field = (req: Request, name: string): string | undefined => {
  const v = (req.body as Record<string, unknown> | undefined)?.[name];
  return typeof v === 'string' ? v : undefined;
};
const list = (req: Request, name: string): string[] => {
  const v = (req.body as Record<string, unknown> | undefined)?.[name];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : [];
};
const DATE = { de: new Intl.DateTimeFormat('de-DE', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'Europe/Berlin' }), en: new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'Europe/Berlin' }) };
const when = (d: Date | null, l: Locale) => (d ? DATE[l].format(d) : '–');

export function registerPages(app: Express, ctx: AppContext): void {
  const form = express.urlencoded({ extended: true, limit: '16kb', parameterLimit: 100 });

  /** "Meine Daten": what the bridge holds, my requests, filing a new one (DSR-01 … DSR-05). */
  app.get(
    '/privacy/me',
    page(ctx, async (req, res, session) => {
      const l = requestLocale(req);
      const de = l === 'de';
      const requests = await listRequests(ctx.db, session.tenantId, { userId: session.userId });
      const tenant = toTenant(await ctx.db.selectFrom('tenants').selectAll().where('id', '=', session.tenantId).executeTakeFirstOrThrow());
      const exportDays = tenant.settings.retention.exportFileDays;
      const categories = processingRegister(ctx.privacy);
      const notice = typeof req.query.done === 'string' ? html`<div class="notice ok" role="status"><p>${de ? 'Ihr Antrag wurde gespeichert.' : 'Your request was saved.'}</p></div>` : '';
      const body = html`<h1>${de ? 'Meine Daten' : 'My data'}</h1>
${notice}
<p>${de ? 'Hier sehen Sie, welche Daten die Schulbrücke über Sie speichert, und können Ihre Rechte nach der DSGVO wahrnehmen. Anträge gehen an die/den Datenschutzbeauftragte(n) Ihrer Schule.' : 'See which data the bridge stores about you and exercise your GDPR rights. Requests go to your school’s data-protection officer.'}</p>
<section aria-labelledby="h-requests">
<h2 id="h-requests">${de ? 'Meine Anträge' : 'My requests'}</h2>
${requests.length
  ? html`<table><thead><tr><th scope="col">${de ? 'Antrag' : 'Request'}</th><th scope="col">${de ? 'Gestellt' : 'Filed'}</th><th scope="col">Status</th><th scope="col">${de ? 'Kommentar der/des Datenschutzbeauftragten' : 'Comment of the DPO'}</th><th scope="col">${de ? 'Aktion' : 'Action'}</th></tr></thead><tbody>
${requests.map((r) => {
  const status = r.status as RequestStatus;
  const actions: Raw[] = [];
  if (status === 'download_ready') {
    const until = r.ready_at ? new Date(r.ready_at.getTime() + exportDays * DAY) : null;
    actions.push(html`<form method="post" action="/privacy/me/requests/${r.id}/download">${csrfField(session)}<button type="submit">${de ? 'Archiv herunterladen' : 'Download archive'}</button></form><p class="muted">${de ? `Verfügbar bis ${when(until, l)} (RET-10).` : `Available until ${when(until, l)} (RET-10).`}</p>`);
  }
  if (transition(status, 'cancel', r.type as RequestType).ok) actions.push(html`<form method="post" action="/privacy/me/requests/${r.id}/cancel">${csrfField(session)}<button type="submit" class="secondary">${de ? 'Zurückziehen' : 'Withdraw'}</button></form>`);
  return html`<tr><td>${TYPE_LABELS[r.type as RequestType][l]}</td><td>${when(r.created_at, l)}</td><td>${statusLabel(status, l)}${r.error ? html`<br><span class="muted">${de ? 'Fehler bei der Bearbeitung; die Schule wiederholt sie.' : 'Processing failed; the school will retry.'}</span>` : ''}</td><td>${r.dpo_comment ?? '–'}</td><td>${actions}</td></tr>`;
})}
</tbody></table>`
  : html`<p>${de ? 'Sie haben noch keine Anträge gestellt.' : 'You have not filed any requests.'}</p>`}
</section>
<section aria-labelledby="h-new">
<h2 id="h-new">${de ? 'Neuer Antrag' : 'New request'}</h2>
<form method="post" action="/privacy/me/requests">
${csrfField(session)}
<label for="type">${de ? 'Was möchten Sie?' : 'What would you like?'}</label>
<select id="type" name="type" required>
${REQUEST_TYPES.map((t) => html`<option value="${t}">${TYPE_LABELS[t][l]}</option>`)}
</select>
<fieldset>
<legend>${de ? 'Nur bei Einschränkung: welche Daten? (ohne Auswahl: alle)' : 'Restriction only: which data? (none selected: all)'}</legend>
${categories.map((c) => html`<label><input type="checkbox" name="categories" value="${c.category}"> ${de ? c.purpose.de : c.purpose.en}</label>`)}
</fieldset>
<label for="message">${de ? 'Bei Berichtigung oder Frage: Ihre Nachricht' : 'Rectification or question: your message'}</label>
<textarea id="message" name="message" rows="4" maxlength="2000"></textarea>
<p><button type="submit">${de ? 'Antrag stellen' : 'File request'}</button></p>
</form>
</section>
<section aria-labelledby="h-data">
<h2 id="h-data">${de ? 'Welche Daten die Schulbrücke speichert' : 'What data the bridge stores'}</h2>
<ul>
${categories.map((c) => html`<li><strong>${de ? c.purpose.de : c.purpose.en}</strong> <span class="rule">${c.category} · ${c.retentionRule}</span></li>`)}
</ul>
</section>
${session.roles.includes('dpo') ? html`<p><a href="/privacy/dpo">${de ? 'Zu den Anträgen (Datenschutzbeauftragte/r)' : 'To the requests (DPO)'}</a></p>` : ''}`;
      res.type('html').send(layout({ title: de ? 'Meine Daten' : 'My data', locale: l, body }));
    }),
  );

  app.post(
    '/privacy/me/requests',
    form,
    page(
      ctx,
      async (req, res, session) => {
        const type = field(req, 'type');
        if (!type || !(REQUEST_TYPES as readonly string[]).includes(type)) throw new ProblemError(422, 'validation-failed', 'Bitte eine Art des Antrags wählen.');
        const message = field(req, 'message');
        await fileRequest(ctx, subjectOf(session), { userId: session.userId, type: type as RequestType, categories: list(req, 'categories'), ...(message ? { message } : {}) });
        res.redirect(303, '/privacy/me?done=1');
      },
      { csrf: true },
    ),
  );

  app.post(
    '/privacy/me/requests/:id/cancel',
    form,
    page(
      ctx,
      async (req, res, session) => {
        await cancelRequest(ctx, subjectOf(session), uuidParam(req));
        res.redirect(303, '/privacy/me?done=1');
      },
      { csrf: true },
    ),
  );

  app.post(
    '/privacy/me/requests/:id/download',
    form,
    page(
      ctx,
      async (req, res, session) => {
        const link = await createDownloadLink(ctx, subjectOf(session), uuidParam(req));
        res.redirect(303, `/privacy/downloads/${link.token}`);
      },
      { csrf: true },
    ),
  );

  app.get(
    '/privacy/downloads/:token',
    page(ctx, async (req, res, session) => {
      const { requestId, chunks } = await useDownloadLink(ctx, subjectOf(session), String(req.params.token));
      await sendArchive(res, requestId, chunks);
    }),
  );

  /** The DPO's page: open requests with approve / reject, re-run, lift, download. */
  app.get(
    '/privacy/dpo',
    page(
      ctx,
      async (req, res, session) => {
        const l = requestLocale(req);
        const de = l === 'de';
        const requests = await listRequests(ctx.db, session.tenantId, {});
        const rows = await Promise.all(
          requests.map(async (r) => {
            const status = r.status as RequestStatus;
            const message = r.message_sealed ? await readMessage(ctx, dpoOf(session), r.id) : null;
            const actions: Raw[] = [];
            if (status === 'awaiting_approval') {
              actions.push(html`<form method="post" action="/privacy/dpo/requests/${r.id}/decide">${csrfField(session)}<label for="c-${r.id}">${de ? 'Kommentar (sieht die antragstellende Person; keine weiteren personenbezogenen Daten)' : 'Comment (shown to the requester; no further personal data)'}</label><textarea id="c-${r.id}" name="comment" rows="2" maxlength="2000"></textarea><button type="submit" name="decision" value="approve">${de ? 'Freigeben' : 'Approve'}</button> <button type="submit" name="decision" value="reject" class="danger">${de ? 'Ablehnen' : 'Reject'}</button></form>`);
            }
            if (status === 'processing' && r.error) actions.push(html`<form method="post" action="/privacy/dpo/requests/${r.id}/run">${csrfField(session)}<button type="submit">${de ? 'Erneut ausführen' : 'Run again'}</button></form>`);
            if (status === 'completed' && r.type === 'restriction') actions.push(html`<form method="post" action="/privacy/dpo/requests/${r.id}/lift">${csrfField(session)}<button type="submit" class="secondary">${de ? 'Einschränkung aufheben' : 'Lift restriction'}</button></form>`);
            if (status === 'download_ready') actions.push(html`<form method="post" action="/privacy/dpo/requests/${r.id}/download">${csrfField(session)}<button type="submit" class="secondary">${de ? 'Archiv herunterladen' : 'Download archive'}</button></form>`);
            return html`<tr><td>${TYPE_LABELS[r.type as RequestType][l]}${message ? html`<br><q>${message}</q>` : ''}</td><td><code>${r.user_id}</code><br><span class="muted">${r.filed_via}</span></td><td>${when(r.created_at, l)}</td><td>${statusLabel(status, l)}${r.error ? html`<br><span class="muted">${r.error}</span>` : ''}</td><td>${r.dpo_comment ?? '–'}</td><td>${actions}</td></tr>`;
          }),
        );
        const body = html`<h1>${de ? 'Anträge betroffener Personen' : 'Data-subject requests'}</h1>
<p>${de ? 'Anträge warten auf Ihre Freigabe (DSR-05). Jede Entscheidung wird mit der Antragskennung protokolliert.' : 'Requests wait for your approval (DSR-05). Every decision is logged with the request id.'} <a href="/privacy/register">${de ? 'Verzeichnis der Verarbeitungstätigkeiten' : 'Record of processing'}</a></p>
<section aria-labelledby="h-file"><h2 id="h-file">${de ? 'Antrag für eine Person stellen' : 'File a request for a person'}</h2>
<form method="post" action="/privacy/dpo/requests">${csrfField(session)}
<label for="userId">${de ? 'Kennung der Person (aus der Schulbrücke)' : 'Person id (from the bridge)'}</label><input id="userId" name="userId" required pattern="[0-9a-fA-F-]{36}">
<label for="dpo-type">${de ? 'Art' : 'Type'}</label><select id="dpo-type" name="type">${REQUEST_TYPES.map((t) => html`<option value="${t}">${TYPE_LABELS[t][l]}</option>`)}</select>
<label for="dpo-message">${de ? 'Nachricht (bei Berichtigung oder Frage)' : 'Message (rectification or question)'}</label><textarea id="dpo-message" name="message" rows="2" maxlength="2000"></textarea>
<p><button type="submit">${de ? 'Antrag stellen' : 'File request'}</button></p></form></section>
${rows.length ? html`<table><thead><tr><th scope="col">${de ? 'Antrag' : 'Request'}</th><th scope="col">${de ? 'Person (Kennung)' : 'Person (id)'}</th><th scope="col">${de ? 'Gestellt' : 'Filed'}</th><th scope="col">Status</th><th scope="col">${de ? 'Kommentar' : 'Comment'}</th><th scope="col">${de ? 'Aktion' : 'Action'}</th></tr></thead><tbody>${rows}</tbody></table>` : html`<p>${de ? 'Keine Anträge.' : 'No requests.'}</p>`}`;
        res.type('html').send(layout({ title: de ? 'Anträge' : 'Requests', locale: l, body }));
      },
      { dpo: true },
    ),
  );

  app.post(
    '/privacy/dpo/requests',
    form,
    page(
      ctx,
      async (req, res, session) => {
        const type = field(req, 'type');
        const userId = field(req, 'userId')?.trim() ?? '';
        if (!type || !(REQUEST_TYPES as readonly string[]).includes(type)) throw new ProblemError(422, 'validation-failed', 'Bitte eine Art des Antrags wählen.');
        if (!UUID.test(userId)) throw new ProblemError(404, 'not-found', 'Diese Person ist bei dieser Schule nicht bekannt.', { ruleIds: ['ACC-04'] });
        const message = field(req, 'message');
        await fileRequest(ctx, dpoOf(session), { userId, type: type as RequestType, ...(message ? { message } : {}) });
        res.redirect(303, '/privacy/dpo');
      },
      { dpo: true, csrf: true },
    ),
  );

  app.post(
    '/privacy/dpo/requests/:id/decide',
    form,
    page(
      ctx,
      async (req, res, session) => {
        const decision = field(req, 'decision');
        if (decision !== 'approve' && decision !== 'reject') throw new ProblemError(422, 'validation-failed', 'Bitte „Freigeben“ oder „Ablehnen“ wählen.');
        await decideRequest(ctx, dpoOf(session), uuidParam(req), decision, field(req, 'comment'));
        res.redirect(303, '/privacy/dpo');
      },
      { dpo: true, csrf: true },
    ),
  );

  app.post(
    '/privacy/dpo/requests/:id/run',
    form,
    page(
      ctx,
      async (req, res, session) => {
        await processRequest(ctx, session.tenantId, uuidParam(req), dpoOf(session));
        res.redirect(303, '/privacy/dpo');
      },
      { dpo: true, csrf: true },
    ),
  );

  app.post(
    '/privacy/dpo/requests/:id/lift',
    form,
    page(
      ctx,
      async (req, res, session) => {
        await liftRestriction(ctx, dpoOf(session), uuidParam(req));
        res.redirect(303, '/privacy/dpo');
      },
      { dpo: true, csrf: true },
    ),
  );

  app.post(
    '/privacy/dpo/requests/:id/download',
    form,
    page(
      ctx,
      async (req, res, session) => {
        const link = await createDownloadLink(ctx, dpoOf(session), uuidParam(req));
        res.redirect(303, `/privacy/dpo/downloads/${link.token}`);
      },
      { dpo: true, csrf: true },
    ),
  );

  app.get(
    '/privacy/dpo/downloads/:token',
    page(
      ctx,
      async (req, res, session) => {
        const { requestId, chunks } = await useDownloadLink(ctx, dpoOf(session), String(req.params.token));
        await sendArchive(res, requestId, chunks);
      },
      { dpo: true },
    ),
  );

  /** The processing record as a page, for the DPO and the tenant's admins. */
  app.get(
    '/privacy/register',
    page(ctx, async (req, res, session) => {
      if (!session.roles.includes('dpo') && !session.roles.includes('admin')) throw new ProblemError(403, 'forbidden', 'Das Verzeichnis sehen die/der Datenschutzbeauftragte und die Administration der Schule.');
      const l = requestLocale(req);
      const tenant = await ctx.db.selectFrom('tenants').select('name').where('id', '=', session.tenantId).executeTakeFirstOrThrow();
      res.type('html').send(layout({ title: l === 'de' ? 'Verzeichnis der Verarbeitungstätigkeiten' : 'Record of processing activities', locale: l, body: registerHtml(processingRegister(ctx.privacy), tenant.name, l) }));
    }),
  );
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function uuidParam(req: Request): string {
  const id = String(req.params.id);
  if (!UUID.test(id)) throw new ProblemError(404, 'not-found', 'Diesen Antrag gibt es hier nicht.');
  return id;
}
