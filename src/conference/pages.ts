/**
 * Pages for teachers, pupils and guests (German first, English via ?lang=en or
 * Accept-Language), made to work inside Moodle's iframe: server-rendered, no
 * inline scripts or styles, forms with the session's CSRF token.
 */
import express, { type Express, type Request, type Response } from 'express';
import { extendCspDirectives } from '../http/headers.js';
import { backendConfig, listBackends } from '../backends/store.js';
import { consentCounts, currentUsageRules, acceptUsageRules, hasAcceptedUsageRules, hasConsent } from '../consent/index.js';
import type { AppContext } from '../context.js';
import { rolesInContext, TEACHING_ROLES, type AppRole } from '../identity/index.js';
import { requestLocale, type Locale } from '../http/locale.js';
import { csrfField, csrfMatches, loadSession, type Session } from '../session/index.js';
import { ProblemError } from '../shared/errors.js';
import { html, layout, Raw } from '../web/html.js';
import { decide } from './policy.js';
import { continueInFreshRoom, createRoom, createShareLink, endRoom, findShareLink, joinByShareLink, joinFacts, joinRoom, policyRoom, setRecording, startRoom, tenantSettings, type JoinTarget } from './service.js';
import { findRoom, roomsOfContext, type RoomRow } from './store.js';

const T = (l: Locale, de: string, en: string) => (l === 'de' ? de : en);

const CATEGORY: Record<string, { de: string; en: string }> = {
  lesson: { de: 'Unterricht', en: 'Lesson' },
  staff: { de: 'Dienstbesprechung', en: 'Staff meeting' },
  sensitive: { de: 'Vertrauliches Gespräch', en: 'Sensitive meeting' },
  peer: { de: 'Peer-Treffen (LAA)', en: 'Peer meeting (trainees)' },
};
const STATE: Record<string, { de: string; en: string }> = {
  idle: { de: 'nicht gestartet', en: 'not started' },
  running: { de: 'läuft', en: 'running' },
  ended: { de: 'beendet', en: 'ended' },
};

function send(res: Response, status: number, title: string, locale: Locale, body: Raw, scripts: string[] = []): void {
  res.status(status).type('html').setHeader('Cache-Control', 'no-store');
  res.send(layout({ title, locale, body, scripts }));
}

/** A refusal in plain language that names the rule (VC-xx). */
function sendProblemPage(res: Response, locale: Locale, problem: ProblemError, back?: string): void {
  const reasonEn = typeof problem.extra.reasonEn === 'string' ? problem.extra.reasonEn : null;
  const text = locale === 'en' && reasonEn ? reasonEn : (problem.detail ?? problem.type);
  send(
    res,
    problem.status,
    T(locale, 'Nicht möglich', 'Not possible'),
    locale,
    html`<h1>${T(locale, 'Das geht leider nicht', 'This is not possible')}</h1>
      <p role="alert" class="notice error" data-rules="${problem.ruleIds.join(' ')}">${text}</p>
      ${problem.ruleIds.length ? html`<p class="rules">${T(locale, 'Regel', 'Rule')}: ${problem.ruleIds.join(', ')}</p>` : ''}
      ${back ? html`<p><a href="${back}">${T(locale, 'Zurück', 'Back')}</a></p>` : ''}`,
  );
}

type Handler = (req: Request, res: Response, locale: Locale) => Promise<void>;

function page(ctx: AppContext, handler: Handler) {
  return async (req: Request, res: Response) => {
    const locale = requestLocale(req);
    try {
      await handler(req, res, locale);
    } catch (error) {
      if (error instanceof ProblemError) return sendProblemPage(res, locale, error, req.method === 'POST' ? `${req.path.replace(/\/[a-z-]+$/, '')}${locale === 'en' ? '?lang=en' : ''}` : undefined);
      ctx.logger.error({ err: error }, 'conference page failed');
      sendProblemPage(res, locale, new ProblemError(500, 'internal', T(locale, 'Ein unerwarteter Fehler ist aufgetreten.', 'An unexpected error occurred.')));
    }
  };
}

async function requireSession(ctx: AppContext, req: Request): Promise<Session> {
  const session = await loadSession(ctx.db, ctx.clock, req);
  if (!session) throw new ProblemError(401, 'unauthenticated', 'Bitte über Moodle oder IServ anmelden: nur berechtigte Personen nehmen teil (VC-01).', { ruleIds: ['VC-01'], extra: { reasonEn: 'Please sign in through Moodle or IServ: only authorised persons take part (VC-01).' } });
  return session;
}

function checkCsrf(req: Request, session: Session): void {
  if (!csrfMatches(session, req.body)) throw new ProblemError(403, 'forbidden', 'Das Formular ist abgelaufen. Bitte die Seite neu laden.', { extra: { reasonEn: 'The form has expired. Please reload the page.' } });
}

async function roomFor(ctx: AppContext, session: Session, roomId: string): Promise<{ room: RoomRow; roles: AppRole[] }> {
  if (!/^[0-9a-f-]{36}$/i.test(roomId)) throw new ProblemError(404, 'not-found', 'Raum nicht gefunden.');
  const room = await findRoom(ctx.db, session.tenantId, roomId);
  if (!room) throw new ProblemError(404, 'not-found', 'Raum nicht gefunden.', { extra: { reasonEn: 'Room not found.' } });
  const roles = await rolesInContext(ctx.db, session.tenantId, session.userId, room.context_id);
  if (!roles.length) throw new ProblemError(403, 'policy-denied', 'Dieser Raum gehört zu einem Kurs, in dem du nicht eingetragen bist (VC-01).', { ruleIds: ['VC-01'], extra: { reasonEn: 'This room belongs to a course you are not enrolled in (VC-01).' } });
  return { room, roles };
}

const isTeaching = (roles: AppRole[]) => roles.some((r) => TEACHING_ROLES.includes(r));
const langQ = (l: Locale) => (l === 'en' ? '?lang=en' : '');

/** The BBB server's origin for form-action on pages whose join form is redirected there. */
async function allowBbbForms(ctx: AppContext, res: Response, room: RoomRow): Promise<void> {
  const backend = await backendConfig(ctx.db, room.tenant_id, room.backend);
  if (backend?.kind === 'bbb') extendCspDirectives(res, new URL(backend.baseUrl).origin, ['form-action']);
}

/** Sends the person on: BBB join URL by redirect; Jitsi page embedding the IFrame API. */
function sendJoin(res: Response, locale: Locale, target: JoinTarget, title: string, endForm?: Raw): void {
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Referrer-Policy', 'no-referrer');
  if (target.kind === 'bbb') {
    res.redirect(303, target.url);
    return;
  }
  // CSP for this page only: the tenant's Jitsi domain may serve external_api.js and be framed.
  // Jitsi needs its script, API and frame; BBB joins are form posts redirected there (form-action, above).
  extendCspDirectives(res, `https://${target.domain}`, ['script-src', 'connect-src', 'frame-src']);
  send(
    res,
    200,
    title,
    locale,
    html`<h1>${title}</h1>
      <div id="jitsi" class="jitsi" data-domain="${target.domain}" data-room="${target.room}" data-jwt="${target.jwt}" data-moderator="${String(target.moderator)}" data-lobby="${String(target.lobby)}" data-password="${target.password ?? ''}" data-camera-off="${String(target.cameraOff)}" data-private-chat="${String(target.privateChat)}" data-lang="${locale}" aria-label="${T(locale, 'Videokonferenz', 'Video conference')}"></div>
      ${endForm ?? ''}`,
    ['conference-jitsi.js'],
  );
}

export function registerConferencePages(app: Express, ctx: AppContext): void {
  const form = express.urlencoded({ extended: false, limit: '20kb' });

  app.get(
    '/home',
    page(ctx, async (req, res, l) => {
      const session = await requireSession(ctx, req);
      const contexts = await ctx.db
        .selectFrom('memberships')
        .innerJoin('contexts', 'contexts.id', 'memberships.context_id')
        .select(['contexts.id', 'contexts.title', 'memberships.roles'])
        .where('memberships.tenant_id', '=', session.tenantId)
        .where('memberships.user_id', '=', session.userId)
        .where('contexts.deleted_at', 'is', null)
        .orderBy('contexts.title')
        .execute();
      send(
        res,
        200,
        T(l, 'Meine Kurse und Gruppen', 'My courses and groups'),
        l,
        html`<h1>${T(l, 'Meine Kurse und Gruppen', 'My courses and groups')}</h1>
          ${contexts.length
            ? html`<ul class="contexts">${contexts.map((c) => html`<li><a href="/contexts/${c.id}${langQ(l)}">${c.title}</a></li>`)}</ul>`
            : html`<p>${T(l, 'Du bist noch in keinem Kurs eingetragen.', 'You are not enrolled in any course yet.')}</p>`}`,
      );
    }),
  );

  app.get(
    '/contexts/:contextId',
    page(ctx, async (req, res, l) => {
      const session = await requireSession(ctx, req);
      const contextId = String(req.params.contextId);
      if (!/^[0-9a-f-]{36}$/i.test(contextId)) throw new ProblemError(404, 'not-found', 'Nicht gefunden.');
      // The context and the caller's roles in it (as rolesInContext: a live user's membership) in one read.
      const context = await ctx.db
        .selectFrom('contexts')
        .leftJoin('memberships', (j) => j.onRef('memberships.context_id', '=', 'contexts.id').on('memberships.tenant_id', '=', session.tenantId).on('memberships.user_id', '=', session.userId))
        .leftJoin('users', (j) => j.onRef('users.id', '=', 'memberships.user_id').on('users.deleted_at', 'is', null))
        .select(['contexts.id', 'contexts.title', 'memberships.roles', 'users.id as liveUser'])
        .where('contexts.tenant_id', '=', session.tenantId)
        .where('contexts.id', '=', contextId)
        .where('contexts.deleted_at', 'is', null)
        .executeTakeFirst();
      const roles = context?.liveUser && context.roles ? (context.roles as AppRole[]) : [];
      if (!context || !roles.length) throw new ProblemError(404, 'not-found', 'Kurs bzw. Gruppe nicht gefunden (VC-01).', { ruleIds: ['VC-01'] });
      const teacher = isTeaching(roles);
      const [rooms, backends, settings] = await Promise.all([
        roomsOfContext(ctx.db, session.tenantId, contextId),
        teacher ? listBackends(ctx.db, session.tenantId) : [],
        teacher ? tenantSettings(ctx, session.tenantId) : null,
      ]);
      send(
        res,
        200,
        context.title,
        l,
        html`<h1>${context.title}</h1>
          <h2>${T(l, 'Konferenzräume', 'Conference rooms')}</h2>
          ${rooms.length
            ? html`<ul class="rooms">${rooms.map((r) => html`<li><a href="/rooms/${r.id}${langQ(l)}">${r.title}</a> – ${CATEGORY[r.category]?.[l] ?? r.category} (${STATE[r.state]?.[l] ?? r.state})</li>`)}</ul>`
            : html`<p>${T(l, 'Noch keine Räume.', 'No rooms yet.')}</p>`}
          ${teacher
            ? html`<section aria-labelledby="new-room"><h2 id="new-room">${T(l, 'Neuen Raum anlegen', 'Create a room')}</h2>
                <form method="post" action="/contexts/${contextId}/rooms${langQ(l)}">
                  ${csrfField(session)}
                  <p><label for="title">${T(l, 'Titel', 'Title')}</label> <input id="title" name="title" required maxlength="200"></p>
                  <p><label for="category">${T(l, 'Art des Treffens', 'Kind of meeting')}</label>
                    <select id="category" name="category">${Object.entries(CATEGORY).map(([k, v]) => html`<option value="${k}">${v[l]}</option>`)}</select></p>
                  <p><label for="purpose">${T(l, 'Zweck (bei Dienstbesprechung und vertraulichem Gespräch nötig, VC-09)', 'Purpose (needed for staff and sensitive meetings, VC-09)')}</label> <input id="purpose" name="purpose" maxlength="300"></p>
                  <fieldset><legend>${T(l, 'Einstellungen', 'Settings')}</legend>
                    <p><input type="checkbox" id="privateChat" name="privateChat" value="yes"> <label for="privateChat">${T(l, 'Private Chats zwischen Teilnehmenden erlauben (VC-14; im Unterricht sonst aus)', 'Allow private chats between participants (VC-14; otherwise off in lessons)')}</label></p>
                    ${settings && !settings.conference.lessonLobby ? html`<p><input type="checkbox" id="lobby" name="lobby" value="yes" checked> <label for="lobby">${T(l, 'Warteraum auch im Unterricht (VC-04; vertrauliche Gespräche immer)', 'Lobby for lessons too (VC-04; sensitive meetings always)')}</label></p>` : ''}
                  </fieldset>
                  <p><label for="backend">${T(l, 'Konferenzsystem', 'Conference system')}</label>
                    <select id="backend" name="backend">${backends.map((b) => html`<option value="${b.name}">${b.name} (${b.kind === 'bbb' ? 'BigBlueButton' : 'Jitsi'})</option>`)}</select></p>
                  <p><button type="submit">${T(l, 'Raum anlegen', 'Create room')}</button></p>
                </form></section>`
            : ''}
          <p><a href="/home${langQ(l)}">${T(l, 'Alle Kurse', 'All courses')}</a></p>`,
      );
    }),
  );

  app.post(
    '/contexts/:contextId/rooms',
    form,
    page(ctx, async (req, res, l) => {
      const session = await requireSession(ctx, req);
      checkCsrf(req, session);
      const contextId = String(req.params.contextId);
      const roles = /^[0-9a-f-]{36}$/i.test(contextId) ? await rolesInContext(ctx.db, session.tenantId, session.userId, contextId) : [];
      if (!roles.length) throw new ProblemError(404, 'not-found', 'Kurs bzw. Gruppe nicht gefunden (VC-01).', { ruleIds: ['VC-01'] });
      const b = req.body as Record<string, string>;
      const title = String(b.title ?? '').trim().slice(0, 200);
      if (!title) throw new ProblemError(422, 'validation-failed', 'Bitte einen Titel angeben.');
      const category = String(b.category ?? '') as 'lesson';
      if (!['lesson', 'staff', 'sensitive', 'peer', 'art9'].includes(category)) throw new ProblemError(422, 'validation-failed', 'Unbekannte Art des Treffens.');
      // VC-14: the teacher's choice; VC-04: the lesson lobby can only be off where the tenant allows it (policy).
      const roomSettings = { privateChat: b.privateChat === 'yes', ...(category === 'lesson' ? { lobby: b.lobby === 'yes' } : {}) };
      const room = await createRoom(ctx, { tenantId: session.tenantId, contextId, title, category, backend: String(b.backend ?? ''), purpose: String(b.purpose ?? '').trim() || null, settings: roomSettings }, { userId: session.userId, roles });
      res.redirect(303, `/rooms/${room.id}${langQ(l)}`);
    }),
  );

  app.get(
    '/rooms/:roomId/status',
    page(ctx, async (req, res) => {
      const session = await requireSession(ctx, req);
      const { room } = await roomFor(ctx, session, String(req.params.roomId));
      res.setHeader('Cache-Control', 'no-store');
      res.json({ state: room.state });
    }),
  );

  app.get(
    '/rooms/:roomId',
    page(ctx, async (req, res, l) => {
      const session = await requireSession(ctx, req);
      const { room, roles } = await roomFor(ctx, session, String(req.params.roomId));
      const settings = await tenantSettings(ctx, session.tenantId);
      await allowBbbForms(ctx, res, room);
      const base = `/rooms/${room.id}`;
      const header = html`<h1>${room.title}</h1>
        <p class="meta">${CATEGORY[room.category]?.[l] ?? room.category} · <span id="room-state" data-state="${room.state}">${STATE[room.state]?.[l] ?? room.state}</span></p>`;
      const refusal = decide('join', { kind: 'member', userId: session.userId, roles }, policyRoom(room, 'bbb'), settings, { usageRulesAccepted: true, videoConsent: true, peerConsent: true });
      if (refusal.effect === 'deny' && refusal.rules.includes('VC-08')) throw new ProblemError(403, 'policy-denied', refusal.reason.de, { ruleIds: refusal.rules, extra: { reasonEn: refusal.reason.en } });

      // Everyone (teachers too) accepts the usage rules once per version before anything else (VC-13).
      if (!(await hasAcceptedUsageRules(ctx.db, session.tenantId, session.userId))) {
        const rules = (await currentUsageRules(ctx.db, session.tenantId))!;
        send(
          res,
          200,
          T(l, 'Nutzungsregeln', 'Usage rules'),
          l,
          html`${header}<section aria-labelledby="rules"><h2 id="rules">${T(l, 'Nutzungsregeln für Videokonferenzen (VC-13)', 'Usage rules for video conferences (VC-13)')}</h2>
            <div class="usage-rules">${(l === 'en' && rules.textEn ? rules.textEn : rules.textDe).split(/\n+/).map((p) => html`<p>${p}</p>`)}</div>
            <form method="post" action="${base}/rules${langQ(l)}">${csrfField(session)}<input type="hidden" name="version" value="${rules.version}">
              <p><input type="checkbox" id="accept" name="accept" value="yes" required> <label for="accept">${T(l, 'Ich habe die Regeln gelesen und halte mich daran.', 'I have read the rules and will follow them.')}</label></p>
              <button type="submit" id="accept-rules">${T(l, 'Bestätigen', 'Accept')}</button></form></section>`,
        );
        return;
      }
      if (isTeaching(roles)) {
        const counts = await consentCounts(ctx.db, session.tenantId, room.context_id);
        const running = room.state === 'running';
        const recordingOn = (room.settings as { recording?: boolean }).recording === true;
        const maxHours = settings.conference.shareLinkMaxHours;
        send(
          res,
          200,
          room.title,
          l,
          html`${header}
            <section aria-labelledby="pupils"><h2 id="pupils">${T(l, 'Schülerinnen und Schüler', 'Pupils')}</h2>
              <ul class="counts">
                ${settings.consentRequired ? html`<li id="count-no-consent">${T(l, `Ohne Einwilligung (VC-07): ${counts.withoutConsent} von ${counts.pupils} – sie können nicht teilnehmen.`, `Without consent (VC-07): ${counts.withoutConsent} of ${counts.pupils} – they cannot join.`)}</li>` : ''}
                <li id="count-objection">${T(l, `Mit Widerspruch gegen Video (VC-06): ${counts.withObjection} – sie nehmen ohne Kamera teil; bitte auf anderem Weg informiert halten.`, `With an objection to video (VC-06): ${counts.withObjection} – they join without camera; keep them informed by other means.`)}</li>
              </ul></section>
            <section aria-labelledby="actions"><h2 id="actions">${T(l, 'Konferenz', 'Conference')}</h2>
              ${running
                ? html`<form method="post" action="${base}/join${langQ(l)}">${csrfField(session)}<button type="submit" id="join">${T(l, 'Beitreten', 'Join')}</button></form>
                    <form method="post" action="${base}/end${langQ(l)}" data-confirm="${T(l, 'Konferenz für alle beenden?', 'End the conference for everyone?')}">${csrfField(session)}<button type="submit" id="end">${T(l, 'Für alle beenden', 'End for everyone')}</button></form>
                    ${room.category === 'sensitive' ? html`<form method="post" action="${base}/fresh${langQ(l)}">${csrfField(session)}<button type="submit" id="fresh">${T(l, 'In frischem Raum fortsetzen (VC-11)', 'Continue in a fresh room (VC-11)')}</button></form>` : ''}`
                : html`<form method="post" action="${base}/start${langQ(l)}">${csrfField(session)}<button type="submit" id="start">${T(l, 'Konferenz starten', 'Start conference')}</button></form>`}
            </section>
            ${html`<section aria-labelledby="share"><h2 id="share">${T(l, 'Gäste einladen (VC-15)', 'Invite guests (VC-15)')}</h2>
                  <form method="post" action="${base}/share${langQ(l)}">${csrfField(session)}
                    <label for="hours">${T(l, 'Gültig für Stunden', 'Valid for hours')}</label>
                    <input id="hours" name="hours" type="number" min="1" max="${maxHours}" value="${Math.min(2, maxHours)}" required>
                    <button type="submit" id="share-create">${T(l, 'Freigabelink erstellen', 'Create share link')}</button></form></section>`}
            ${settings.conference.recordingAllowed
              ? html`<section aria-labelledby="rec"><h2 id="rec">${T(l, 'Aufzeichnung (VC-05)', 'Recording (VC-05)')}</h2>
                  <form method="post" action="${base}/recording${langQ(l)}">${csrfField(session)}
                    <input type="hidden" name="enabled" value="${recordingOn ? 'false' : 'true'}">
                    <p>${recordingOn ? T(l, 'Aufzeichnung ist für diesen Raum erlaubt (ab dem nächsten Start).', 'Recording is allowed for this room (from the next start).') : T(l, 'Keine Aufzeichnung.', 'No recording.')}</p>
                    <button type="submit" id="recording">${recordingOn ? T(l, 'Aufzeichnung ausschalten', 'Switch recording off') : T(l, 'Aufzeichnung erlauben', 'Allow recording')}</button></form></section>`
              : ''}
            <p><a href="/contexts/${room.context_id}${langQ(l)}">${T(l, 'Zurück zum Kurs', 'Back to the course')}</a></p>`,
          ['conference-room.js'],
        );
        return;
      }

      // Pupils and other participants: wait, then join.
      if (room.category === 'peer' && !(await hasConsent(ctx.db, session.tenantId, session.userId, 'peer'))) {
        send(
          res,
          200,
          room.title,
          l,
          html`${header}<form method="post" action="${base}/agree${langQ(l)}">${csrfField(session)}
            <p>${T(l, 'Bei Peer-Treffen stimmen alle Teilnehmenden zu (VC-09).', 'In peer meetings every participant agrees (VC-09).')}</p>
            <button type="submit" id="agree">${T(l, 'Ich stimme zu', 'I agree')}</button></form>`,
        );
        return;
      }
      // Refusals that waiting would not cure (VC-07 consent, VC-09 staff …) are named at once, in plain words.
      const preview = decide('join', { kind: 'member', userId: session.userId, roles }, { ...policyRoom(room, 'bbb'), state: 'running' }, settings, await joinFacts(ctx, session.tenantId, session.userId));
      if (preview.effect === 'deny') {
        send(
          res,
          403,
          room.title,
          l,
          html`${header}<p role="alert" class="notice error" id="refusal" data-rules="${preview.rules.join(' ')}">${preview.reason[l]}</p>
            <p><a href="/contexts/${room.context_id}${langQ(l)}">${T(l, 'Zurück zum Kurs', 'Back to the course')}</a></p>`,
        );
        return;
      }
      if (room.state !== 'running') {
        send(
          res,
          200,
          room.title,
          l,
          html`${header}<p id="waiting" role="status" aria-live="polite" data-poll="${base}/status">${T(l, 'Warten auf die Lehrkraft: die Konferenz ist noch nicht gestartet. Die Seite aktualisiert sich von selbst.', 'Waiting for the teacher: the conference has not started yet. This page refreshes by itself.')}</p>
            <p><a href="${base}${langQ(l)}">${T(l, 'Jetzt aktualisieren', 'Refresh now')}</a></p>`,
          ['conference-room.js'],
        );
        return;
      }
      send(
        res,
        200,
        room.title,
        l,
        html`${header}<form method="post" action="${base}/join${langQ(l)}">${csrfField(session)}<button type="submit" id="join">${T(l, 'Beitreten', 'Join')}</button></form>`,
      );
    }),
  );

  const action = (path: string, run: (req: Request, res: Response, l: Locale, session: Session, room: RoomRow, roles: AppRole[]) => Promise<void>) =>
    app.post(
      `/rooms/:roomId/${path}`,
      form,
      page(ctx, async (req, res, l) => {
        const session = await requireSession(ctx, req);
        checkCsrf(req, session);
        const { room, roles } = await roomFor(ctx, session, String(req.params.roomId));
        await run(req, res, l, session, room, roles);
      }),
    );
  const back = (res: Response, room: RoomRow, l: Locale) => res.redirect(303, `/rooms/${room.id}${langQ(l)}`);

  action('start', async (_req, res, l, s, room, roles) => {
    await startRoom(ctx, room, { userId: s.userId, roles });
    back(res, room, l);
  });
  action('end', async (_req, res, l, s, room, roles) => {
    await endRoom(ctx, room, { userId: s.userId, roles });
    back(res, room, l);
  });
  action('fresh', async (_req, res, l, s, room, roles) => {
    const fresh = await continueInFreshRoom(ctx, room, { userId: s.userId, roles });
    sendJoin(res, l, await joinRoom(ctx, fresh, { userId: s.userId, roles }), fresh.title);
  });
  action('join', async (_req, res, l, s, room, roles) => {
    const target = await joinRoom(ctx, room, { userId: s.userId, roles });
    const endForm = isTeaching(roles) && target.kind === 'jitsi' ? html`<form method="post" action="/rooms/${room.id}/end${langQ(l)}" data-jitsi-end="true">${csrfField(s)}<button type="submit" id="end">${T(l, 'Für alle beenden', 'End for everyone')}</button></form>` : undefined;
    sendJoin(res, l, target, room.title, endForm);
  });
  action('rules', async (req, res, l, s, room) => {
    const b = req.body as Record<string, string>;
    if (b.accept !== 'yes') throw new ProblemError(422, 'validation-failed', 'Bitte die Nutzungsregeln bestätigen (VC-13).', { ruleIds: ['VC-13'] });
    const ok = await acceptUsageRules(ctx.db, ctx.clock, { tenantId: s.tenantId, userId: s.userId, version: Number(b.version) });
    ctx.audit.activity({ tenantId: s.tenantId, actorId: s.userId, contextId: room.context_id, action: 'usage-rules.accept', objectType: 'usage_rules', objectId: String(b.version), outcome: ok ? 'ok' : 'deny', ruleIds: ['VC-13'] });
    back(res, room, l);
  });
  action('agree', async (_req, res, l, s, room) => {
    if (!(await hasConsent(ctx.db, s.tenantId, s.userId, 'peer'))) {
      await ctx.db.insertInto('consents').values({ tenant_id: s.tenantId, user_id: s.userId, scope: 'peer', given_at: ctx.clock.now(), source: 'room-page' }).execute();
    }
    ctx.audit.activity({ tenantId: s.tenantId, actorId: s.userId, contextId: room.context_id, action: 'peer.agree', objectType: 'room', objectId: room.id, outcome: 'ok', ruleIds: ['VC-09'] });
    back(res, room, l);
  });
  action('recording', async (req, res, l, s, room, roles) => {
    await setRecording(ctx, room, { userId: s.userId, roles }, (req.body as Record<string, string>).enabled === 'true');
    back(res, room, l);
  });
  action('share', async (req, res, l, s, room, roles) => {
    const hours = Number((req.body as Record<string, string>).hours);
    const link = await createShareLink(ctx, room, { userId: s.userId, roles }, Number.isFinite(hours) ? hours : undefined);
    const url = `${ctx.config.publicUrl.replace(/\/+$/, '')}/share/${link.token}`;
    send(
      res,
      201,
      T(l, 'Freigabelink', 'Share link'),
      l,
      html`<h1>${T(l, 'Freigabelink erstellt', 'Share link created')}</h1>
        <p>${T(l, 'Link und Passwort werden nur jetzt angezeigt. Bitte getrennt weitergeben (VC-15).', 'Link and password are shown only now. Please pass them on separately (VC-15).')}</p>
        <dl><dt>${T(l, 'Link', 'Link')}</dt><dd><output id="share-url">${url}</output></dd>
        <dt>${T(l, 'Passwort', 'Password')}</dt><dd><output id="share-password">${link.password}</output></dd>
        <dt>${T(l, 'Gültig bis', 'Valid until')}</dt><dd>${link.expiresAt.toLocaleString(l === 'de' ? 'de-DE' : 'en-GB', { timeZone: 'Europe/Berlin' })}</dd></dl>
        <p>${T(l, 'Der Link endet spätestens, wenn der Raum beendet wird.', 'The link ends at the latest when the room ends.')}</p>
        <p><a href="/rooms/${room.id}${langQ(l)}">${T(l, 'Zurück zum Raum', 'Back to the room')}</a></p>`,
    );
  });

  // Guests (VC-15): name + password → lobby.
  const shareForm = (l: Locale, token: string, title: string, rules: string | null, error?: string) =>
    html`<h1>${T(l, 'Als Gast teilnehmen', 'Join as a guest')}: ${title}</h1>
      ${error ? html`<p role="alert" class="notice error">${error}</p>` : ''}
      <form method="post" action="/share/${token}${langQ(l)}">
        <p><label for="name">${T(l, 'Dein Name', 'Your name')}</label> <input id="name" name="name" required maxlength="80" autocomplete="name"></p>
        <p><label for="password">${T(l, 'Passwort', 'Password')}</label> <input id="password" name="password" type="password" required autocomplete="off"></p>
        ${rules ? html`<div class="usage-rules">${rules.split(/\n+/).map((p) => html`<p>${p}</p>`)}</div>` : ''}
        <p><input type="checkbox" id="accept" name="accept" value="yes" required> <label for="accept">${T(l, 'Ich halte mich an die Nutzungsregeln: keine Aufzeichnung, keine Dritten, kein öffentlicher Ort (VC-13).', 'I follow the usage rules: no recording, no third parties, no public places (VC-13).')}</label></p>
        <p><button type="submit" id="guest-join">${T(l, 'Zum Warteraum', 'To the lobby')}</button></p>
      </form>`;

  app.get(
    '/share/:token',
    page(ctx, async (req, res, l) => {
      const token = String(req.params.token);
      const found = /^[A-Za-z0-9_-]{20,100}$/.test(token) ? await findShareLink(ctx, token) : null;
      if (!found || found.link.expires_at <= ctx.clock.now()) throw new ProblemError(404, 'not-found', 'Dieser Freigabelink ist ungültig oder abgelaufen (VC-15).', { ruleIds: ['VC-15'], extra: { reasonEn: 'This share link is invalid or has expired (VC-15).' } });
      const rules = await currentUsageRules(ctx.db, found.room.tenant_id);
      await allowBbbForms(ctx, res, found.room);
      send(res, 200, T(l, 'Als Gast teilnehmen', 'Join as a guest'), l, shareForm(l, token, found.room.title, rules ? (l === 'en' && rules.textEn ? rules.textEn : rules.textDe) : null));
    }),
  );

  app.post(
    '/share/:token',
    form,
    page(ctx, async (req, res, l) => {
      const token = String(req.params.token);
      const b = req.body as Record<string, string>;
      const name = String(b.name ?? '').trim().slice(0, 80);
      if (!name || b.accept !== 'yes') throw new ProblemError(422, 'validation-failed', 'Bitte Namen angeben und die Nutzungsregeln bestätigen (VC-13).', { ruleIds: ['VC-13'] });
      if (!/^[A-Za-z0-9_-]{20,100}$/.test(token)) throw new ProblemError(404, 'not-found', 'Dieser Freigabelink ist ungültig oder abgelaufen (VC-15).', { ruleIds: ['VC-15'] });
      const target = await joinByShareLink(ctx, token, name, String(b.password ?? ''));
      sendJoin(res, l, target, T(l, 'Warteraum', 'Lobby'));
    }),
  );
}
