/**
 * REST for the LMS (`lms` scope). The LMS acts on behalf of a person by naming
 * their user id in `onBehalfOf`; what that person may do is decided from the
 * bridge's own membership records (ACC-01, ACC-02), never from the body.
 * Admin and DPO tokens have no routine access (ACC-01, ACC-02).
 */
import { z } from 'zod';
import type { Mount } from '../app.js';
import type { AppContext } from '../context.js';
import { mountCompetencyPages } from './pages.js';
import { validationProblem, type Api } from '../http/api.js';
import { isSchoolYearLabel } from './schoolyear.js';
import * as svc from './service.js';
import { pullFromMoodle } from './moodle.js';

const LMS = { scopes: ['lms'] as const };
const id = z.uuid();
export const COMPETENCY_ID = /^[^\s/?#%\\]{1,100}$/;
const competencyId = z.string().regex(COMPETENCY_ID, { message: '1–100 Zeichen ohne Leerzeichen und ohne / ? # % \\' });
const level = z.number().int().min(0).max(9).nullable().describe('Index in the tenant\'s grading scheme (settings.competency.gradingScheme), lowest first; null = not assessed');
const instant = z.iso.datetime({ offset: true });

const contextParams = z.object({ slug: z.string(), contextId: id });
const gridParams = contextParams.extend({ gridId: id });
const itemParams = gridParams.extend({ competencyId });
const lebParams = contextParams.extend({ lebId: id });
const onBehalf = z.object({ onBehalfOf: id.describe('users.id of the person the LMS acts for (see GET /tenants/{slug}/users)') }).strict();

export const gridItemSchema = z
  .object({
    competencyId,
    title: z.string().trim().min(1).max(500),
    position: z.number().int().min(0).max(100_000).optional(),
    teacherAssessment: level.optional(),
    selfAssessment: level.optional().describe('Only accepted unchanged: the pupil changes it via …/self-assessment'),
    evidence: z.string().max(4000).nullable().optional(),
  })
  .strict();

export const gridSchema = z
  .object({
    pupilId: id,
    framework: z.string().trim().min(1).max(200).describe('Framework / grid reference in the LMS (core_competency framework idnumber, exacomp subject)'),
    title: z.string().trim().max(300).optional(),
    standardReachedAt: instant.nullable().optional().describe('RET-08: from then on the pupil may delete the grid'),
    items: z.array(gridItemSchema).max(500),
  })
  .strict();

export const lebSchema = z
  .object({
    pupilId: id,
    schoolYear: z.string().refine(isSchoolYearLabel, { message: 'Schuljahr im Format 2025/26' }),
    responsibleTeacherIds: z.array(id).min(1).max(50),
    socialBehaviour: z.string().max(20_000).optional(),
    learningBehaviour: z.string().max(20_000).optional(),
    subjectCompetencies: z.string().max(50_000).optional(),
    standardReachedAt: instant.nullable().optional().describe('RET-09: deleted at the end of the following school year'),
  })
  .strict();

/** Batch entries are validated one by one in the handler, so a failure names its index (all or nothing). */
const batchOf = (what: string, max: number) => z.array(z.unknown()).min(1).max(max).describe(`each entry as for a single PUT of ${what}`);

function parseEntries<T>(schema: z.ZodType<T>, entries: unknown[]): T[] {
  return entries.map((entry, index) => {
    const r = schema.safeParse(entry);
    if (!r.success) throw svc.batchFailure(index, validationProblem(r.error, 'body'));
    return r.data;
  });
}

const scheme = z.array(z.string());
const gridOut = z.object({
  id,
  contextId: id,
  pupilId: id,
  framework: z.string(),
  title: z.string(),
  gradingScheme: scheme,
  standardReachedAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  items: z.array(z.object({
    competencyId: z.string(),
    title: z.string(),
    position: z.number(),
    selfAssessment: z.object({ level: z.number(), label: z.string(), assessedAt: z.string().nullable() }).nullable(),
    teacherAssessment: z.object({ level: z.number(), label: z.string(), assessorId: z.string().nullable(), assessedAt: z.string().nullable() }).nullable(),
    evidence: z.string().nullable(),
  })),
});
const lebOut = z.object({
  id,
  contextId: id,
  pupilId: id,
  schoolYear: z.string(),
  responsibleTeacherIds: z.array(id),
  socialBehaviour: z.string(),
  learningBehaviour: z.string(),
  subjectCompetencies: z.string(),
  standardReachedAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
const written = z.object({ results: z.array(z.object({ index: z.number(), id, created: z.boolean() })) });

export function registerCompetencyRoutes(api: Api, ctx: AppContext): void {
  const deps = { db: ctx.db, clock: ctx.clock, audit: ctx.audit };
  const actor = (tenantId: string, userId: string): svc.Actor => ({ tenantId, userId, via: 'lms' });
  const base = '/tenants/{slug}/contexts/{contextId}';

  // ---- grids (ACC-01) ----
  api.route({
    method: 'get', path: `${base}/grids/overview`, tag: 'competency', access: LMS,
    summary: 'Class overview (pupils × competencies) of one framework, for the context\'s teachers (ACC-01)',
    params: contextParams, query: onBehalf.extend({ framework: z.string().min(1).max(200) }).strict(),
    async handler({ tenant, params, query }) {
      return svc.classOverview(deps, actor(tenant.id, query.onBehalfOf), params.contextId, query.framework);
    },
  });

  api.route({
    method: 'put', path: `${base}/grids/batch`, tag: 'competency', access: LMS,
    summary: 'Upsert several grids, all or nothing; a failure names the entry\'s index (422)',
    params: contextParams, query: onBehalf, body: z.object({ grids: batchOf('a grid', 100) }).strict(), response: written, errors: [422],
    async handler({ tenant, params, query, body }) {
      const results = await svc.putGridBatch(deps, actor(tenant.id, query.onBehalfOf), params.contextId, parseEntries(gridSchema, body.grids));
      return { results: results.map((r, index) => ({ index, ...r })) };
    },
  });

  api.route({
    method: 'put', path: `${base}/grids`, tag: 'competency', access: LMS,
    summary: 'Upsert one pupil\'s grid (idempotent; keyed by pupilId + framework; items not named are removed)',
    params: contextParams, query: onBehalf, body: gridSchema, response: gridOut.extend({ created: z.boolean() }), errors: [409, 422, 423],
    async handler({ tenant, params, query, body }) {
      const { grid, created } = await svc.putGrid(deps, actor(tenant.id, query.onBehalfOf), params.contextId, body);
      return { ...grid, created };
    },
  });

  api.route({
    method: 'get', path: `${base}/grids`, tag: 'competency', access: LMS,
    summary: 'Grids of the context the acting person may see: all for its teachers, their own for a pupil (ACC-01)',
    params: contextParams, query: onBehalf,
    response: z.object({ items: z.array(z.object({ id, pupilId: id, framework: z.string(), title: z.string(), standardReachedAt: z.string().nullable() })) }),
    async handler({ tenant, params, query }) {
      return { items: await svc.listGrids(deps, actor(tenant.id, query.onBehalfOf), params.contextId) };
    },
  });

  api.route({
    method: 'get', path: `${base}/grids/{gridId}`, tag: 'competency', access: LMS,
    summary: 'Read a grid: the context\'s teachers and the pupil concerned; other pupils 404, other teachers 403 (ACC-01)',
    params: gridParams, query: onBehalf, response: gridOut,
    async handler({ tenant, params, query }) {
      return svc.readGrid(deps, actor(tenant.id, query.onBehalfOf), params.contextId, params.gridId);
    },
  });

  api.route({
    method: 'delete', path: `${base}/grids/{gridId}`, tag: 'competency', access: LMS, status: 204,
    summary: 'Delete a grid: the context\'s teachers, or the pupil once the standard is reached (RET-08)',
    params: gridParams, query: onBehalf, errors: [409, 423],
    async handler({ tenant, params, query }) {
      await svc.deleteGridAs(deps, actor(tenant.id, query.onBehalfOf), params.contextId, params.gridId);
    },
  });

  api.route({
    method: 'put', path: `${base}/grids/{gridId}/items/{competencyId}/self-assessment`, tag: 'competency', access: LMS, status: 204,
    summary: 'The pupil\'s self-assessment of one competency (where the tenant allows it)',
    params: itemParams, query: onBehalf, body: z.object({ level }).strict(), errors: [423],
    async handler({ tenant, params, query, body }) {
      await svc.selfAssess(deps, actor(tenant.id, query.onBehalfOf), params.contextId, params.gridId, [{ competencyId: params.competencyId, level: body.level }]);
    },
  });

  api.route({
    method: 'put', path: `${base}/grids/{gridId}/items/{competencyId}/assessment`, tag: 'competency', access: LMS, status: 204,
    summary: 'A teacher\'s assessment of one competency (assessor and time recorded)',
    params: itemParams, query: onBehalf, body: z.object({ level, evidence: z.string().max(4000).nullable().optional() }).strict(), errors: [423],
    async handler({ tenant, params, query, body }) {
      await svc.assess(deps, actor(tenant.id, query.onBehalfOf), params.contextId, params.gridId, [{ competencyId: params.competencyId, ...body }]);
    },
  });

  api.route({
    method: 'post', path: `${base}/grids/pull`, tag: 'competency', access: LMS,
    summary: 'Pull the course\'s competency ratings from Moodle web services (report_competency_data_for_report) into grids, acting for a teacher (ACC-01); all or nothing',
    params: contextParams, query: onBehalf,
    body: z.object({
      moodleUrl: z.url({ protocol: /^https?$/ }).describe('Base URL of the Moodle site'),
      token: z.string().min(8).max(200).describe('Web-service token; used for this pull only, never stored'),
    }).strict(),
    response: z.object({ grids: z.number(), pupils: z.number() }), errors: [502],
    async handler({ tenant, params, query, body }) {
      return pullFromMoodle(deps, actor(tenant.id, query.onBehalfOf), params.contextId, { baseUrl: body.moodleUrl, token: body.token });
    },
  });

  // ---- LEBs (ACC-02) ----
  api.route({
    method: 'put', path: `${base}/lebs/batch`, tag: 'competency', access: LMS,
    summary: 'Upsert several LEBs, all or nothing; a failure names the entry\'s index (422)',
    params: contextParams, query: onBehalf, body: z.object({ lebs: batchOf('an LEB', 100) }).strict(), response: written, errors: [422],
    async handler({ tenant, params, query, body }) {
      const results = await svc.putLebBatch(deps, actor(tenant.id, query.onBehalfOf), params.contextId, parseEntries(lebSchema, body.lebs));
      return { results: results.map((r, index) => ({ index, ...r })) };
    },
  });

  api.route({
    method: 'put', path: `${base}/lebs`, tag: 'competency', access: LMS,
    summary: 'Upsert a learning-development report (keyed by pupilId + schoolYear); only responsible teachers (ACC-02)',
    params: contextParams, query: onBehalf, body: lebSchema, response: lebOut.extend({ created: z.boolean() }), errors: [422, 423],
    async handler({ tenant, params, query, body }) {
      const { leb, created } = await svc.putLeb(deps, actor(tenant.id, query.onBehalfOf), params.contextId, body);
      return { ...leb, created };
    },
  });

  api.route({
    method: 'get', path: `${base}/lebs`, tag: 'competency', access: LMS,
    summary: 'LEBs of the context the acting teacher is responsible for; pupils 404, others 403 (ACC-02)',
    params: contextParams, query: onBehalf, response: z.object({ items: z.array(lebOut) }),
    async handler({ tenant, params, query }) {
      return { items: await svc.listLebs(deps, actor(tenant.id, query.onBehalfOf), params.contextId) };
    },
  });

  api.route({
    method: 'get', path: `${base}/lebs/{lebId}`, tag: 'competency', access: LMS,
    summary: 'Read an LEB: responsible teachers only; every pupil 404, other teachers 403 (ACC-02)',
    params: lebParams, query: onBehalf, response: lebOut,
    async handler({ tenant, params, query }) {
      return svc.readLeb(deps, actor(tenant.id, query.onBehalfOf), params.contextId, params.lebId);
    },
  });

  api.route({
    method: 'delete', path: `${base}/lebs/{lebId}`, tag: 'competency', access: LMS, status: 204,
    summary: 'Delete an LEB: responsible teachers only (ACC-02); otherwise RET-09 deletes it',
    params: lebParams, query: onBehalf, errors: [423],
    async handler({ tenant, params, query }) {
      await svc.deleteLebAs(deps, actor(tenant.id, query.onBehalfOf), params.contextId, params.lebId);
    },
  });
}

/** REST under /api/v1 and the pages under /contexts/{contextId}/grids… and …/lebs…. */
export const competencyMount: Mount = (app, api, ctx) => {
  registerCompetencyRoutes(api, ctx);
  mountCompetencyPages(app, ctx);
};
