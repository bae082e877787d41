import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { AppRole } from '../../src/identity/roles.js';
import { setMembership, upsertContext, upsertUser } from '../../src/identity/index.js';
import { createSession, SESSION_COOKIE } from '../../src/session/index.js';
import type { TestApp } from './app.js';

export interface TestTenant {
  id: string;
  slug: string;
  /** An admin-scope token of this tenant. */
  adminToken: string;
}

/** Creates a tenant through the API (as an operator would) plus a token with the given scopes. */
export async function createTenant(t: TestApp, slug: string, settings: Record<string, unknown> = {}, scopes: string[] = ['admin']): Promise<TestTenant> {
  const created = await request(t.app).post('/api/v1/tenants').set(t.auth()).send({ slug, name: `Schule ${slug}`, settings });
  if (created.status !== 201) throw new Error(`tenant ${slug}: ${created.status} ${JSON.stringify(created.body)}`);
  const token = await request(t.app).post(`/api/v1/tenants/${slug}/tokens`).set(t.auth()).send({ label: `test ${scopes.join('+')}`, scopes });
  return { id: created.body.id, slug, adminToken: token.body.token };
}

export async function createToken(t: TestApp, slug: string, scopes: string[]): Promise<string> {
  const token = await request(t.app).post(`/api/v1/tenants/${slug}/tokens`).set(t.auth()).send({ label: `test ${scopes.join('+')}`, scopes });
  return token.body.token as string;
}

export interface TestPerson {
  userId: string;
  contextId: string;
  /** `Cookie` header value for a live session of this person in this context. */
  cookie: string;
  csrf: string;
}

/**
 * A person whose identity the bridge has verified, as an LTI launch would leave
 * them: user, context, membership with roles, and a browser session.
 */
export async function personIn(
  t: TestApp,
  tenantId: string,
  options: { roles: AppRole[]; context?: string; subject?: string; name?: string; issuer?: string },
): Promise<TestPerson> {
  const { db, clock } = t.ctx;
  const issuer = options.issuer ?? 'https://moodle.test';
  const userId = await upsertUser(db, clock, { tenantId, source: 'lti', issuer, subject: options.subject ?? randomUUID(), displayName: options.name ?? 'Test Person' });
  const contextId = await upsertContext(db, clock, { tenantId, source: 'lti', issuer, externalId: options.context ?? 'course-1', title: 'Mathe 7a', type: 'CourseSection' });
  await setMembership(db, clock, { tenantId, contextId, userId, roles: options.roles, source: 'launch' });
  const { token, session } = await createSession(db, clock, { tenantId, userId, contextId, roles: options.roles });
  return { userId, contextId, cookie: `${SESSION_COOKIE}=${token}`, csrf: session.csrf };
}
