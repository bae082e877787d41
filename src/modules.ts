/**
 * The one place where modules are wired into the service: their migrations,
 * privacy providers, retention categories, HTTP mounts and jobs. Add a module by
 * adding its lines here.
 */
import type { Migration } from 'kysely';
import type { Mount } from './app.js';
import { auditMigrations } from './audit/migrations.js';
import { auditPrivacy } from './audit/privacy.js';
import { conferenceMigrations } from './conference/migrations.js';
import { consentMigrations } from './consent/migrations.js';
import { consentPrivacy } from './consent/privacy.js';
import { identityMigrations } from './identity/migrations.js';
import { identityPrivacy } from './identity/privacy.js';
import type { PrivacyProvider } from './privacy/registry.js';
import { restrictionMigrations } from './privacy/restrictions.js';
import type { RetentionCategory } from './retention/registry.js';
import { tenantMigrations } from './tenants/migrations.js';
import { ltiMigrations } from '../lti/migrations.js';
import { ltiMount } from '../lti/routes.js';

/** Forward-only; names sort globally, each module in its own number range (see src/db/migrations.ts). */
export const moduleMigrations: Record<string, Migration>[] = [
  tenantMigrations,
  identityMigrations,
  auditMigrations,
  conferenceMigrations,
  consentMigrations,
  restrictionMigrations,
  ltiMigrations,
];

/** Identity first: erasure runs in reverse order, so `users` goes last. */
export const privacyProviders: PrivacyProvider[] = [identityPrivacy, auditPrivacy, consentPrivacy];

export const retentionCategories: RetentionCategory[] = [];

/** HTTP beyond the core REST API (LTI, IServ, pages). */
export const mounts: Mount[] = [ltiMount];
