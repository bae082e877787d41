/**
 * The one place where modules are wired into the service: their migrations,
 * privacy providers, retention categories, HTTP mounts and jobs. Add a module by
 * adding its lines here.
 */
import type { Migration } from 'kysely';
import { allowPlatformFraming } from '../lti/framing.js';
import type { Mount } from './app.js';
import { auditMigrations } from './audit/migrations.js';
import { auditPrivacy } from './audit/privacy.js';
import { competencyPrivacy, competencyRetention } from './competency/index.js';
import { competencyMount } from './competency/routes.js';
import { competencyMigrations } from './competency/migrations.js';
import { conferenceMigrations } from './conference/migrations.js';
import { conferencePrivacy } from './conference/privacy.js';
import { recordingCleanup, roomCleanup } from './conference/retention.js';
import { conferenceMount } from './conference/routes.js';
import { registerConsentRoutes } from './consent/routes.js';
import { consentMigrations } from './consent/migrations.js';
import { consentPrivacy } from './consent/privacy.js';
import { identityMigrations } from './identity/migrations.js';
import { identityPrivacy } from './identity/privacy.js';
import { identityRoutesMount } from './identity/routes.js';
import { iservMigrations } from './iserv/migrations.js';
import { iservMount } from './iserv/routes.js';
import type { PrivacyProvider } from './privacy/registry.js';
import { restrictionMigrations } from './privacy/restrictions.js';
import { privacyMigrations } from './privacy/migrations.js';
import { privacyPrivacy } from './privacy/privacy.js';
import { exportFileRetention, requestRecordRetention } from './privacy/retention.js';
import { registerPrivacyRoutes } from './privacy/routes.js';
import type { RetentionCategory } from './retention/registry.js';
import { ownRetentionCategories, retentionMigrations, retentionPrivacy } from './retention/index.js';
import { retentionMount } from './retention/routes.js';
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
  iservMigrations,
  retentionMigrations,
  competencyMigrations,
  privacyMigrations,
  ltiMigrations,
];

/** Identity first: erasure runs in reverse order, so `users` goes last. */
export const privacyProviders: PrivacyProvider[] = [
  identityPrivacy,
  auditPrivacy,
  consentPrivacy,
  retentionPrivacy,
  conferencePrivacy,
  competencyPrivacy,
  privacyPrivacy,
];

export const retentionCategories: RetentionCategory[] = [
  ...ownRetentionCategories,
  roomCleanup,
  recordingCleanup,
  ...competencyRetention,
  exportFileRetention,
  requestRecordRetention,
];

/** Pages Moodle shows in its iframe may be framed by exactly the tenant's active platforms, nobody else. */
const platformFraming: Mount = (app, _api, ctx) => {
  app.use(['/home', '/contexts', '/rooms', '/privacy'], allowPlatformFraming(ctx));
};

/** HTTP beyond the core REST API (LTI, IServ, pages). */
export const mounts: Mount[] = [
  platformFraming,
  ltiMount,
  identityRoutesMount,
  competencyMount,
  iservMount,
  retentionMount,
  conferenceMount,
  (_app, api, ctx) => registerConsentRoutes(api, ctx),
  registerPrivacyRoutes,
];
