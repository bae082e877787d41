/**
 * Optional pull of competency ratings from Moodle's web services (REST
 * protocol, JSON): `report_competency_data_for_report` (core_competency /
 * tool_lp exporters) gives one pupil's competencies in a course with the
 * course rating. The ratings become grids through the same decided,
 * all-or-nothing batch as an LMS push (ACC-01).
 */
import axios, { type AxiosInstance } from 'axios';
import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import { ProblemError } from '../shared/errors.js';
import * as svc from './service.js';

export interface MoodleConfig {
  /** e.g. https://moodle.schule.de (without /webservice/…) */
  baseUrl: string;
  /** A web-service token; used for this call only, never stored or logged. */
  token: string;
  timeoutMs?: number;
}

/** A Moodle web-service exception (HTTP 200 with `exception`/`errorcode`). */
export class MoodleError extends Error {
  constructor(readonly errorcode: string, message: string) {
    super(message);
    this.name = 'MoodleError';
  }
}

interface UserCompetencyCourse {
  competencyid: number;
  grade: number | null;
  proficiency: boolean | null;
}
interface CompetencySummary {
  competency: { id: number; shortname: string; idnumber: string; sortorder: number };
  framework?: { id: number; shortname: string; idnumber: string };
}
export interface MoodleReport {
  courseid: number;
  usercompetencies: { usercompetencycourse: UserCompetencyCourse; competency: CompetencySummary }[];
}

export class MoodleClient {
  private readonly http: AxiosInstance;
  constructor(private readonly config: MoodleConfig) {
    this.http = axios.create({ baseURL: config.baseUrl.replace(/\/+$/, ''), timeout: config.timeoutMs ?? 10_000, maxRedirects: 0 });
  }

  async call<T>(wsfunction: string, params: Record<string, string | number>): Promise<T> {
    const body = new URLSearchParams({ wstoken: this.config.token, wsfunction, moodlewsrestformat: 'json' });
    for (const [k, v] of Object.entries(params)) body.set(k, String(v));
    let data: unknown;
    try {
      ({ data } = await this.http.post('/webservice/rest/server.php', body.toString(), { headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }));
    } catch (error) {
      const status = (error as { response?: { status?: number } }).response?.status;
      throw new MoodleError('http', `Moodle antwortet nicht (${status ?? (error as { code?: string }).code ?? 'Fehler'})`);
    }
    if (data && typeof data === 'object' && 'exception' in data) {
      const e = data as { errorcode?: string; message?: string };
      throw new MoodleError(e.errorcode ?? 'exception', e.message ?? 'Moodle-Fehler');
    }
    return data as T;
  }

  dataForReport(courseId: number, userId: number): Promise<MoodleReport> {
    return this.call<MoodleReport>('report_competency_data_for_report', { courseid: courseId, userid: userId });
  }
}

/** Moodle's scale values are 1-based; the grading scheme is 0-based and may be shorter. */
export const levelFromMoodleGrade = (grade: number | null, schemeLength: number): number | null =>
  grade === null || grade < 1 ? null : Math.min(grade - 1, schemeLength - 1);

/**
 * Pulls every pupil's course competencies and stores them as grids (one per
 * framework), acting for `actor` (who must teach in the context, ACC-01).
 * Pupils are the context's verified members with role `student` whose identity
 * comes from the same Moodle (numeric LTI `sub` = Moodle user id).
 */
export async function pullFromMoodle(deps: svc.Deps, actor: svc.Actor, contextId: string, config: MoodleConfig): Promise<{ grids: number; pupils: number }> {
  const context = await deps.db.selectFrom('contexts').select(['issuer', 'external_id']).where('id', '=', contextId).where('tenant_id', '=', actor.tenantId).executeTakeFirst();
  const courseId = Number(context?.external_id);
  if (!context || !Number.isInteger(courseId)) throw new ProblemError(404, 'not-found', 'Dieser Kurs stammt nicht aus Moodle (keine numerische Kurs-ID).', { ruleIds: ['ACC-04'] });
  await svc.authorizeGridWrites(deps, actor, contextId); // decides and logs ACC-01 before anything is fetched
  // Only the Moodle that issued the course is asked: no requests to arbitrary hosts.
  if (originOf(config.baseUrl) !== originOf(context.issuer)) {
    throw new ProblemError(422, 'validation-failed', 'Die Moodle-Adresse muss zu der Plattform gehören, aus der der Kurs stammt.', {
      extra: { errors: [{ in: 'body', field: 'moodleUrl', message: 'andere Herkunft als der Kurs', code: 'custom' }] },
    });
  }
  const client = new MoodleClient(config);
  const pupils = await pupilsFromIssuer(deps.db, actor.tenantId, contextId, context.issuer);
  const settings = await svc.competencySettings(deps.db, actor.tenantId);
  const bodies: svc.GridBody[] = [];
  for (const pupil of pupils) {
    let report: MoodleReport;
    try {
      report = await client.dataForReport(courseId, pupil.moodleId);
    } catch (error) {
      if (error instanceof MoodleError) throw new ProblemError(502, 'upstream-failed', `Moodle: ${error.errorcode}. Es wurde nichts gespeichert.`);
      throw error;
    }
    const byFramework = new Map<string, svc.GridItemBody[]>();
    for (const uc of report.usercompetencies ?? []) {
      const framework = uc.competency.framework?.idnumber || uc.competency.framework?.shortname || `framework-${uc.competency.framework?.id ?? 0}`;
      const items = byFramework.get(framework) ?? [];
      items.push({
        competencyId: /^[^\s/?#%\\]{1,100}$/.test(uc.competency.competency.idnumber) ? uc.competency.competency.idnumber : `moodle-${uc.competency.competency.id}`,
        title: uc.competency.competency.shortname,
        position: items.length,
        teacherAssessment: levelFromMoodleGrade(uc.usercompetencycourse.grade, settings.gradingScheme.length),
      });
      byFramework.set(framework, items);
    }
    for (const [framework, items] of byFramework) bodies.push({ pupilId: pupil.userId, framework, items });
  }
  if (bodies.length) await svc.putGridBatch(deps, actor, contextId, bodies);
  return { grids: bodies.length, pupils: pupils.length };
}

async function pupilsFromIssuer(db: Kysely<DB>, tenantId: string, contextId: string, issuer: string): Promise<{ userId: string; moodleId: number }[]> {
  const rows = await db
    .selectFrom('memberships')
    .innerJoin('users', 'users.id', 'memberships.user_id')
    .select(['users.id', 'users.subject', 'memberships.roles'])
    .where('memberships.tenant_id', '=', tenantId)
    .where('memberships.context_id', '=', contextId)
    .where('users.issuer', '=', issuer)
    .where('users.deleted_at', 'is', null)
    .execute();
  return rows
    .filter((r) => (r.roles as string[]).includes('student') && /^\d+$/.test(r.subject))
    .map((r) => ({ userId: r.id, moodleId: Number(r.subject) }));
}

function originOf(url: string): string | null {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}
