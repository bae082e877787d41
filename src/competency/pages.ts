/**
 * Pages after an LTI launch or IServ login (German first): the pupil's own grid
 * ("Mein Kompetenzraster"), the teacher's class overview and a pupil's grid,
 * and the LEB editor for responsible teachers. Every decision is the same as
 * over REST (service.ts), with the session's user as the actor.
 */
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { AppContext } from '../context.js';
import { requestLocale, type Locale } from '../http/locale.js';
import { TEACHING_ROLES } from '../identity/roles.js';
import { csrfField, csrfMatches, loadSession, type Session } from '../session/index.js';
import { ProblemError } from '../shared/errors.js';
import { html, layout, Raw } from '../web/html.js';
import { findById } from '../tenants/store.js';
import { isSchoolYearLabel, schoolYearLabel, schoolYearStartYear } from './schoolyear.js';
import * as svc from './service.js';
import * as store from './store.js';

type T = { de: string; en: string };
const tr = (locale: Locale, t: T) => t[locale];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface PageCtx {
  session: Session;
  actor: svc.Actor;
  locale: Locale;
  contextId: string;
}

function page(res: Response, status: number, locale: Locale, title: string, body: Raw): void {
  res.status(status).type('html').send(layout({ title, locale, body }));
}

function problemPage(res: Response, locale: Locale, problem: ProblemError): void {
  page(
    res,
    problem.status,
    locale,
    tr(locale, { de: 'Nicht möglich', en: 'Not possible' }),
    html`<h1>${tr(locale, { de: 'Das geht leider nicht', en: 'This is not possible' })}</h1>
<div class="notice error" role="alert"><p>${problem.detail ?? problem.type}</p>${problem.ruleIds.length ? html`<p class="rule">${problem.ruleIds.join(', ')}</p>` : ''}</div>`,
  );
}

/** Wraps a page handler: session, context id, CSRF on POST, problems rendered as pages. */
function handle(ctx: AppContext, fn: (req: Request, res: Response, p: PageCtx) => Promise<void>) {
  return async (req: Request, res: Response, next: NextFunction) => {
    const locale = requestLocale(req);
    try {
      const session = await loadSession(ctx.db, ctx.clock, req);
      if (!session) throw new ProblemError(401, 'unauthenticated', tr(locale, { de: 'Bitte die Schulbrücke über Moodle oder IServ öffnen (keine gültige Sitzung).', en: 'Please open Schulbrücke from Moodle or IServ (no valid session).' }));
      const contextId = String(req.params.contextId);
      if (!UUID.test(contextId)) throw new ProblemError(404, 'not-found', 'Diesen Kurs gibt es nicht.');
      if (req.method === 'POST' && !csrfMatches(session, req.body)) {
        throw new ProblemError(403, 'forbidden', tr(locale, { de: 'Das Formular ist abgelaufen; bitte die Seite neu laden.', en: 'The form has expired; please reload the page.' }));
      }
      await fn(req, res, { session, actor: { tenantId: session.tenantId, userId: session.userId, via: 'page' }, locale, contextId });
    } catch (error) {
      if (error instanceof ProblemError) problemPage(res, locale, error);
      else next(error);
    }
  };
}

const deps = (ctx: AppContext): svc.Deps => ({ db: ctx.db, clock: ctx.clock, audit: ctx.audit });

async function namesOf(ctx: AppContext, tenantId: string, ids: string[]): Promise<Map<string, string>> {
  if (!ids.length) return new Map();
  const rows = await ctx.db.selectFrom('users').select(['id', 'display_name']).where('tenant_id', '=', tenantId).where('id', 'in', ids).execute();
  return new Map(rows.map((r) => [r.id, r.display_name]));
}

function levelOptions(scheme: string[], selected: number | null, locale: Locale): Raw {
  return html`<option value="" ${selected === null ? new Raw('selected') : ''}>${tr(locale, { de: '– keine –', en: '– none –' })}</option>${scheme.map(
    (label, i) => html`<option value="${i}" ${selected === i ? new Raw('selected') : ''}>${label}</option>`,
  )}`;
}

const parseLevel = (v: unknown): number | null => (typeof v === 'string' && /^\d$/.test(v) ? Number(v) : null);
const date = (iso: string | null, locale: Locale) => (iso ? new Date(iso).toLocaleDateString(locale === 'de' ? 'de-DE' : 'en-GB', { timeZone: 'Europe/Berlin' }) : '');

function pupilGrid(grid: svc.GridView, p: PageCtx, selfAllowed: boolean): Raw {
  const { locale } = p;
  const base = `/contexts/${p.contextId}/grids/${grid.id}`;
  const rows = grid.items.map(
    (item) => html`<tr><th scope="row">${item.title}</th>
<td>${item.teacherAssessment?.label ?? '–'}</td>
<td>${selfAllowed
      ? html`<select aria-label="${tr(locale, { de: 'Selbsteinschätzung', en: 'Self-assessment' })}: ${item.title}" name="level.${item.competencyId}">${levelOptions(grid.gradingScheme, item.selfAssessment?.level ?? null, locale)}</select>`
      : (item.selfAssessment?.label ?? '–')}</td></tr>`,
  );
  const table = html`<table><thead><tr><th scope="col">${tr(locale, { de: 'Kompetenz', en: 'Competency' })}</th><th scope="col">${tr(locale, { de: 'Einschätzung der Lehrkraft', en: 'Teacher\'s assessment' })}</th><th scope="col">${tr(locale, { de: 'Meine Selbsteinschätzung', en: 'My self-assessment' })}</th></tr></thead><tbody>${rows}</tbody></table>`;
  return html`<section aria-labelledby="g-${grid.id}"><h2 id="g-${grid.id}">${grid.title}</h2>
${selfAllowed ? html`<form method="post" action="${base}/self-assessment">${csrfField(p.session)}${table}<p><button type="submit">${tr(locale, { de: 'Selbsteinschätzung speichern', en: 'Save self-assessment' })}</button></p></form>` : table}
${grid.standardReachedAt
      ? html`<form method="post" action="${base}/delete" class="notice"><p>${tr(locale, { de: `Bildungsstandard erreicht am ${date(grid.standardReachedAt, locale)}. Sie dürfen dieses Raster jetzt löschen (RET-08).`, en: `Standard reached on ${date(grid.standardReachedAt, locale)}. You may now delete this grid (RET-08).` })}</p>
${csrfField(p.session)}<label><input type="checkbox" name="confirm" value="yes" required> ${tr(locale, { de: 'Ja, das Raster endgültig löschen', en: 'Yes, delete this grid for good' })}</label>
<button type="submit" class="danger">${tr(locale, { de: 'Raster löschen', en: 'Delete grid' })}</button></form>`
      : ''}
</section>`;
}

export function mountCompetencyPages(app: Express, ctx: AppContext): void {
  const form = express.urlencoded({ extended: false, limit: '200kb', parameterLimit: 2000 });
  const d = deps(ctx);

  app.get('/contexts/:contextId/grids', handle(ctx, async (req, res, p) => {
    const { locale } = p;
    const facts = await store.callerFacts(ctx.db, p.actor.tenantId, p.actor.userId, p.contextId);
    const teacher = Boolean(facts?.rolesHere.some((r) => TEACHING_ROLES.includes(r)));
    const settings = await svc.competencySettings(ctx.db, p.actor.tenantId);
    const grids = await svc.listGrids(d, p.actor, p.contextId);
    if (!teacher) {
      const views = await Promise.all(grids.map((g) => svc.readGrid(d, p.actor, p.contextId, g.id)));
      const body = html`<h1>${tr(locale, { de: 'Mein Kompetenzraster', en: 'My competency grid' })}</h1>
${req.query.deleted ? html`<p class="notice ok" role="status">${tr(locale, { de: 'Das Raster wurde gelöscht.', en: 'The grid has been deleted.' })}</p>` : ''}
${req.query.saved ? html`<p class="notice ok" role="status">${tr(locale, { de: 'Gespeichert.', en: 'Saved.' })}</p>` : ''}
${views.length ? views.map((v) => pupilGrid(v, p, settings.selfAssessment)) : html`<p>${tr(locale, { de: 'Für diesen Kurs gibt es noch kein Kompetenzraster.', en: 'There is no competency grid for this course yet.' })}</p>`}
<p class="muted">${tr(locale, { de: 'Nur Sie und die Lehrkräfte dieses Kurses sehen Ihr Raster (ACC-01).', en: 'Only you and the teachers of this course see your grid (ACC-01).' })}</p>`;
      return page(res, 200, locale, tr(locale, { de: 'Mein Kompetenzraster', en: 'My competency grid' }), body);
    }
    const frameworks = [...new Set(grids.map((g) => g.framework))];
    const framework = typeof req.query.framework === 'string' && frameworks.includes(req.query.framework) ? req.query.framework : frameworks[0];
    const overview = framework ? await svc.classOverview(d, p.actor, p.contextId, framework) : null;
    const names = await namesOf(ctx, p.actor.tenantId, overview?.pupils.map((x) => x.pupilId) ?? []);
    const pupils = [...(overview?.pupils ?? [])].sort((a, b) => (names.get(a.pupilId) ?? '').localeCompare(names.get(b.pupilId) ?? '', 'de'));
    const body = html`<h1>${tr(locale, { de: 'Kompetenzraster: Klassenübersicht', en: 'Competency grids: class overview' })}</h1>
<p><a href="/contexts/${p.contextId}/lebs">${tr(locale, { de: 'Lernentwicklungsberichte', en: 'Learning-development reports' })}</a></p>
${frameworks.length > 1
      ? html`<form method="get"><label for="fw">${tr(locale, { de: 'Raster', en: 'Grid' })}</label><select id="fw" name="framework">${frameworks.map((f) => html`<option ${f === framework ? new Raw('selected') : ''}>${f}</option>`)}</select> <button type="submit" class="secondary">${tr(locale, { de: 'Anzeigen', en: 'Show' })}</button></form>`
      : ''}
${overview && overview.pupils.length
      ? html`<div class="table-scroll" role="region" aria-label="${tr(locale, { de: 'Übersicht', en: 'Overview' })}" tabindex="0"><table>
<caption>${framework} · ${tr(locale, { de: 'Einschätzung der Lehrkraft (Selbsteinschätzung)', en: 'Teacher assessment (self-assessment)' })}</caption>
<thead><tr><th scope="col">${tr(locale, { de: 'Schüler/in', en: 'Pupil' })}</th>${overview.competencies.map((c) => html`<th scope="col">${c.title}</th>`)}</tr></thead>
<tbody>${pupils.map(
        (x) => html`<tr><th scope="row"><a href="/contexts/${p.contextId}/grids/${x.gridId}">${names.get(x.pupilId) ?? x.pupilId}</a></th>${overview.competencies.map((c) => {
          const l = x.levels[c.competencyId];
          const t = l?.teacher ?? null;
          const s = l?.self ?? null;
          return html`<td>${t === null ? '–' : overview.gradingScheme[t]}${s === null ? '' : html` <span class="muted">(${overview.gradingScheme[s]})</span>`}</td>`;
        })}</tr>`,
      )}</tbody></table></div>`
      : html`<p>${tr(locale, { de: 'Noch keine Kompetenzraster in diesem Kurs.', en: 'No competency grids in this course yet.' })}</p>`}`;
    page(res, 200, locale, tr(locale, { de: 'Klassenübersicht', en: 'Class overview' }), body);
  }));

  app.get('/contexts/:contextId/grids/:gridId', handle(ctx, async (req, res, p) => {
    const { locale } = p;
    const gridId = String(req.params.gridId);
    if (!UUID.test(gridId)) throw new ProblemError(404, 'not-found', 'Kein Kompetenzraster gefunden.', { ruleIds: ['ACC-01'] });
    const grid = await svc.readGrid(d, p.actor, p.contextId, gridId);
    const settings = await svc.competencySettings(ctx.db, p.actor.tenantId);
    if (grid.pupilId === p.actor.userId) return page(res, 200, locale, tr(locale, { de: 'Mein Kompetenzraster', en: 'My competency grid' }), html`<h1>${tr(locale, { de: 'Mein Kompetenzraster', en: 'My competency grid' })}</h1>${pupilGrid(grid, p, settings.selfAssessment)}`);
    const name = (await namesOf(ctx, p.actor.tenantId, [grid.pupilId])).get(grid.pupilId) ?? '';
    const body = html`<h1>${grid.title}: ${name}</h1>
${req.query.saved ? html`<p class="notice ok" role="status">${tr(locale, { de: 'Gespeichert.', en: 'Saved.' })}</p>` : ''}
<form method="post" action="/contexts/${p.contextId}/grids/${grid.id}/assessments">${csrfField(p.session)}
<table><thead><tr><th scope="col">${tr(locale, { de: 'Kompetenz', en: 'Competency' })}</th><th scope="col">${tr(locale, { de: 'Selbsteinschätzung', en: 'Self-assessment' })}</th><th scope="col">${tr(locale, { de: 'Einschätzung der Lehrkraft', en: 'Teacher\'s assessment' })}</th><th scope="col">${tr(locale, { de: 'Beleg / Notiz', en: 'Evidence / note' })}</th></tr></thead>
<tbody>${grid.items.map(
      (item) => html`<tr><th scope="row">${item.title}</th><td>${item.selfAssessment?.label ?? '–'}</td>
<td><select aria-label="${tr(locale, { de: 'Einschätzung', en: 'Assessment' })}: ${item.title}" name="level.${item.competencyId}">${levelOptions(grid.gradingScheme, item.teacherAssessment?.level ?? null, locale)}</select></td>
<td><input aria-label="${tr(locale, { de: 'Notiz', en: 'Note' })}: ${item.title}" name="evidence.${item.competencyId}" value="${item.evidence ?? ''}" maxlength="4000"></td></tr>`,
    )}</tbody></table>
<label><input type="checkbox" name="standardReached" value="yes" ${grid.standardReachedAt ? new Raw('checked') : ''}> ${tr(locale, { de: 'Bildungsstandard erreicht (die Schülerin bzw. der Schüler darf das Raster dann löschen, RET-08)', en: 'Standard reached (the pupil may then delete the grid, RET-08)' })}</label>
<p><button type="submit">${tr(locale, { de: 'Speichern', en: 'Save' })}</button> <a href="/contexts/${p.contextId}/grids">${tr(locale, { de: 'Zur Klassenübersicht', en: 'Back to the class overview' })}</a></p></form>`;
    page(res, 200, locale, grid.title, body);
  }));

  app.post('/contexts/:contextId/grids/:gridId/assessments', form, handle(ctx, async (req, res, p) => {
    const gridId = String(req.params.gridId);
    if (!UUID.test(gridId)) throw new ProblemError(404, 'not-found', 'Kein Kompetenzraster gefunden.', { ruleIds: ['ACC-01'] });
    const current = await svc.readGrid(d, p.actor, p.contextId, gridId);
    const body = req.body as Record<string, string>;
    const changes = current.items
      .map((item) => ({ competencyId: item.competencyId, level: parseLevel(body[`level.${item.competencyId}`]), evidence: (body[`evidence.${item.competencyId}`] ?? '').trim().slice(0, 4000) || null, before: item }))
      .filter((c) => c.level !== (c.before.teacherAssessment?.level ?? null) || c.evidence !== c.before.evidence)
      .map(({ competencyId, level, evidence }) => ({ competencyId, level, evidence }));
    const reached = body.standardReached === 'yes';
    const standard = reached === Boolean(current.standardReachedAt) ? undefined : reached ? ctx.clock.now() : null;
    await svc.assess(d, p.actor, p.contextId, gridId, changes, standard);
    res.redirect(303, `/contexts/${p.contextId}/grids/${gridId}?saved=1`);
  }));

  app.post('/contexts/:contextId/grids/:gridId/self-assessment', form, handle(ctx, async (req, res, p) => {
    const gridId = String(req.params.gridId);
    if (!UUID.test(gridId)) throw new ProblemError(404, 'not-found', 'Kein Kompetenzraster gefunden.', { ruleIds: ['ACC-01'] });
    const current = await svc.readGrid(d, p.actor, p.contextId, gridId);
    const body = req.body as Record<string, string>;
    const changes = current.items
      .map((item) => ({ competencyId: item.competencyId, level: parseLevel(body[`level.${item.competencyId}`]), before: item.selfAssessment?.level ?? null }))
      .filter((c) => c.level !== c.before)
      .map(({ competencyId, level }) => ({ competencyId, level }));
    await svc.selfAssess(d, p.actor, p.contextId, gridId, changes);
    res.redirect(303, `/contexts/${p.contextId}/grids?saved=1`);
  }));

  app.post('/contexts/:contextId/grids/:gridId/delete', form, handle(ctx, async (req, res, p) => {
    const gridId = String(req.params.gridId);
    if (!UUID.test(gridId)) throw new ProblemError(404, 'not-found', 'Kein Kompetenzraster gefunden.', { ruleIds: ['ACC-01'] });
    if ((req.body as Record<string, string>).confirm !== 'yes') throw new ProblemError(400, 'bad-request', tr(p.locale, { de: 'Bitte das Löschen bestätigen.', en: 'Please confirm the deletion.' }));
    await svc.deleteGridAs(d, p.actor, p.contextId, gridId);
    res.redirect(303, `/contexts/${p.contextId}/grids?deleted=1`);
  }));

  // ---- LEBs (ACC-02) ----
  app.get('/contexts/:contextId/lebs', handle(ctx, async (req, res, p) => {
    const { locale } = p;
    const lebs = await svc.listLebs(d, p.actor, p.contextId);
    const pupils = await ctx.db
      .selectFrom('memberships')
      .innerJoin('users', 'users.id', 'memberships.user_id')
      .select(['users.id', 'users.display_name', 'memberships.roles'])
      .where('memberships.tenant_id', '=', p.actor.tenantId)
      .where('memberships.context_id', '=', p.contextId)
      .where('users.deleted_at', 'is', null)
      .orderBy('users.display_name')
      .execute();
    const learners = pupils.filter((x) => (x.roles as string[]).includes('student'));
    const names = await namesOf(ctx, p.actor.tenantId, lebs.map((l) => l.pupilId));
    const tenant = await findById(ctx.db, p.actor.tenantId);
    const year = schoolYearLabel(schoolYearStartYear(ctx.clock.now(), tenant?.settings.schoolYearStart));
    const body = html`<h1>${tr(locale, { de: 'Lernentwicklungsberichte', en: 'Learning-development reports' })}</h1>
<p class="muted">${tr(locale, { de: 'Nur die verantwortlichen Lehrkräfte sehen einen Bericht; Schülerinnen und Schüler sehen ihn nicht (ACC-02).', en: 'Only the responsible teachers see a report; pupils do not (ACC-02).' })}</p>
${lebs.length
      ? html`<ul>${lebs.map((l) => html`<li><a href="/contexts/${p.contextId}/lebs/${l.id}">${names.get(l.pupilId) ?? l.pupilId} · ${l.schoolYear}</a></li>`)}</ul>`
      : html`<p>${tr(locale, { de: 'Sie sind für keinen Bericht in dieser Gruppe verantwortlich.', en: 'You are not responsible for any report in this group.' })}</p>`}
<h2>${tr(locale, { de: 'Neuer Bericht', en: 'New report' })}</h2>
<form method="post" action="/contexts/${p.contextId}/lebs">${csrfField(p.session)}
<label for="pupil">${tr(locale, { de: 'Schüler/in', en: 'Pupil' })}</label><select id="pupil" name="pupilId" required>${learners.map((x) => html`<option value="${x.id}">${x.display_name}</option>`)}</select>
<label for="year">${tr(locale, { de: 'Schuljahr', en: 'School year' })}</label><input id="year" name="schoolYear" value="${year}" pattern="[0-9]{4}/[0-9]{2}" required>
<p><button type="submit">${tr(locale, { de: 'Anlegen', en: 'Create' })}</button></p></form>`;
    page(res, 200, locale, tr(locale, { de: 'Lernentwicklungsberichte', en: 'Learning-development reports' }), body);
  }));

  app.post('/contexts/:contextId/lebs', form, handle(ctx, async (req, res, p) => {
    const body = req.body as Record<string, string>;
    const pupilId = String(body.pupilId ?? '');
    const schoolYear = String(body.schoolYear ?? '').trim();
    if (!UUID.test(pupilId) || !isSchoolYearLabel(schoolYear)) throw new ProblemError(422, 'validation-failed', tr(p.locale, { de: 'Bitte eine Schülerin bzw. einen Schüler und das Schuljahr im Format 2025/26 angeben.', en: 'Please choose a pupil and give the school year as 2025/26.' }));
    const { leb } = await svc.putLeb(d, p.actor, p.contextId, { pupilId, schoolYear, responsibleTeacherIds: [p.actor.userId] });
    res.redirect(303, `/contexts/${p.contextId}/lebs/${leb.id}`);
  }));

  app.get('/contexts/:contextId/lebs/:lebId', handle(ctx, async (req, res, p) => {
    const { locale } = p;
    const lebId = String(req.params.lebId);
    if (!UUID.test(lebId)) throw new ProblemError(404, 'not-found', 'Kein Lernentwicklungsbericht gefunden.', { ruleIds: ['ACC-02'] });
    const leb = await svc.readLeb(d, p.actor, p.contextId, lebId);
    const name = (await namesOf(ctx, p.actor.tenantId, [leb.pupilId])).get(leb.pupilId) ?? '';
    const area = (field: 'socialBehaviour' | 'learningBehaviour' | 'subjectCompetencies', label: T) =>
      html`<label for="${field}">${tr(locale, label)}</label><textarea id="${field}" name="${field}" rows="6">${leb[field]}</textarea>`;
    const body = html`<h1>${tr(locale, { de: 'Lernentwicklungsbericht', en: 'Learning-development report' })}: ${name} · ${leb.schoolYear}</h1>
${req.query.saved ? html`<p class="notice ok" role="status">${tr(locale, { de: 'Gespeichert.', en: 'Saved.' })}</p>` : ''}
<form method="post" action="/contexts/${p.contextId}/lebs/${leb.id}">${csrfField(p.session)}
${area('socialBehaviour', { de: 'Sozialverhalten', en: 'Social behaviour' })}
${area('learningBehaviour', { de: 'Lern- und Arbeitsverhalten', en: 'Learning behaviour' })}
${area('subjectCompetencies', { de: 'Fachspezifische Kompetenzen', en: 'Subject competencies' })}
<label><input type="checkbox" name="standardReached" value="yes" ${leb.standardReachedAt ? new Raw('checked') : ''}> ${tr(locale, { de: 'Bildungsstandard erreicht (der Bericht wird am Ende des folgenden Schuljahres gelöscht, RET-09)', en: 'Standard reached (the report is deleted at the end of the following school year, RET-09)' })}</label>
<p><button type="submit">${tr(locale, { de: 'Speichern', en: 'Save' })}</button> <a href="/contexts/${p.contextId}/lebs">${tr(locale, { de: 'Zur Liste', en: 'Back to the list' })}</a></p></form>`;
    page(res, 200, locale, tr(locale, { de: 'Lernentwicklungsbericht', en: 'Learning-development report' }), body);
  }));

  app.post('/contexts/:contextId/lebs/:lebId', form, handle(ctx, async (req, res, p) => {
    const lebId = String(req.params.lebId);
    if (!UUID.test(lebId)) throw new ProblemError(404, 'not-found', 'Kein Lernentwicklungsbericht gefunden.', { ruleIds: ['ACC-02'] });
    const current = await svc.readLeb(d, p.actor, p.contextId, lebId);
    const body = req.body as Record<string, string>;
    const text = (v: unknown, max: number) => String(v ?? '').slice(0, max);
    const reached = body.standardReached === 'yes';
    await svc.putLeb(d, p.actor, p.contextId, {
      pupilId: current.pupilId,
      schoolYear: current.schoolYear,
      responsibleTeacherIds: current.responsibleTeacherIds,
      socialBehaviour: text(body.socialBehaviour, 20_000),
      learningBehaviour: text(body.learningBehaviour, 20_000),
      subjectCompetencies: text(body.subjectCompetencies, 50_000),
      standardReachedAt: reached ? (current.standardReachedAt ?? ctx.clock.now().toISOString()) : null,
    });
    res.redirect(303, `/contexts/${p.contextId}/lebs/${lebId}?saved=1`);
  }));
}
