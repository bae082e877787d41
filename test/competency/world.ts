import request from 'supertest';
import type { TestApp } from '../harness/app.js';
import { createTenant, createToken, personIn, type TestPerson } from '../harness/people.js';

export const PERSONS = ['teacher', 'teacherSameContextNotResponsible', 'teacherOther', 'pupil', 'pupilSameGroup', 'pupilOther', 'admin', 'dpo'] as const;
export type PersonName = (typeof PERSONS)[number];

export interface World {
  slug: string;
  tenantId: string;
  lms: string;
  adminToken: string;
  dpoToken: string;
  other: { slug: string; tenantId: string; lms: string; pupil: TestPerson };
  c1: string;
  c2: string;
  people: Record<PersonName, TestPerson>;
}

/**
 * One school with two courses: the pupil and a classmate in course 1 with its
 * teacher (responsible for the LEB) and a colleague, another course with its
 * own teacher and pupil, a tenant admin and the DPO, plus a second school.
 */
export async function buildWorld(t: TestApp, slug: string, settings: Record<string, unknown> = {}): Promise<World> {
  const tenant = await createTenant(t, slug, settings, ['admin']);
  const lms = await createToken(t, slug, ['lms']);
  const dpoToken = await createToken(t, slug, ['dpo']);
  const inC1 = { context: 'course-1' };
  const inC2 = { context: 'course-2' };
  const people = {
    teacher: await personIn(t, tenant.id, { roles: ['teacher'], ...inC1, name: 'Frau Lehrerin' }),
    teacherSameContextNotResponsible: await personIn(t, tenant.id, { roles: ['teacher'], ...inC1, name: 'Herr Kollege' }),
    teacherOther: await personIn(t, tenant.id, { roles: ['teacher'], ...inC2, name: 'Herr Anders' }),
    pupil: await personIn(t, tenant.id, { roles: ['student'], ...inC1, name: 'Paula Pupil' }),
    pupilSameGroup: await personIn(t, tenant.id, { roles: ['student'], ...inC1, name: 'Quentin Klassenkamerad' }),
    pupilOther: await personIn(t, tenant.id, { roles: ['student'], ...inC2, name: 'Rita Rest' }),
    admin: await personIn(t, tenant.id, { roles: ['admin'], ...inC1, name: 'Admin Person' }),
    dpo: await personIn(t, tenant.id, { roles: ['dpo'], ...inC1, name: 'DSB Person' }),
  };
  const otherTenant = await createTenant(t, `${slug}-b`, {}, ['admin']);
  const otherLms = await createToken(t, `${slug}-b`, ['lms']);
  const otherPupil = await personIn(t, otherTenant.id, { roles: ['student'], context: 'course-1', name: 'Fremd' });
  return {
    slug,
    tenantId: tenant.id,
    lms,
    adminToken: tenant.adminToken,
    dpoToken,
    other: { slug: `${slug}-b`, tenantId: otherTenant.id, lms: otherLms, pupil: otherPupil },
    c1: people.teacher.contextId,
    c2: people.teacherOther.contextId,
    people,
  };
}

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

export function gridBody(pupilId: string, framework = 'mathe-7', items = 3, extra: Record<string, unknown> = {}) {
  return {
    pupilId,
    framework,
    title: `Kompetenzraster ${framework}`,
    items: Array.from({ length: items }, (_, i) => ({ competencyId: `k${i + 1}`, title: `Kompetenz ${i + 1}`, teacherAssessment: i % 4 })),
    ...extra,
  };
}

export async function putGrid(t: TestApp, w: World, actingFor: string, body: object, contextId = w.c1) {
  return request(t.app).put(`/api/v1/tenants/${w.slug}/contexts/${contextId}/grids?onBehalfOf=${actingFor}`).set(bearer(w.lms)).send(body);
}

export async function putLeb(t: TestApp, w: World, actingFor: string, body: object, contextId = w.c1) {
  return request(t.app).put(`/api/v1/tenants/${w.slug}/contexts/${contextId}/lebs?onBehalfOf=${actingFor}`).set(bearer(w.lms)).send(body);
}

export function lebBody(w: World, extra: Record<string, unknown> = {}) {
  return {
    pupilId: w.people.pupil.userId,
    schoolYear: '2026/27',
    responsibleTeacherIds: [w.people.teacher.userId],
    socialBehaviour: 'Hilfsbereit und aufmerksam.',
    learningBehaviour: 'Arbeitet selbstständig.',
    subjectCompetencies: 'Mathematik: sicher im Bruchrechnen.',
    ...extra,
  };
}
